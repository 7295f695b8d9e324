import { ok, startTestApp, uid, type GraphQLResult, type TestApp } from '../helpers/test-app';

/**
 * `updateTemplate` with partial input and `Template.hasUnpublishedChanges` (issue 14, item 7): only the fields
 * given change (content per channel; null removes a channel's content), `createTemplate` still needs every field,
 * and clients typing their variables `TemplateInput!` keep working for both mutations.
 */

const TEMPLATE = 'id key name channels draft published publishedVersion status hasUnpublishedChanges';
const Q = {
  create: `mutation($i: TemplateInput!) { createTemplate(input: $i) { ${TEMPLATE} } }`,
  update: `mutation($id: ID!, $i: TemplateInput!) { updateTemplate(id: $id, input: $i) { ${TEMPLATE} } }`,
  publish: `mutation($id: ID!) { publishTemplate(id: $id) { ${TEMPLATE} } }`,
  get: `query($id: ID) { template(id: $id) { ${TEMPLATE} } }`,
  list: `{ templates { id hasUnpublishedChanges } }`,
};

const content = (v: string) => ({
  email: { subject: `Order {{data.orderId}} ${v}`, html: `<p>Hi ${v}</p>`, text: `Hi ${v}` },
  sms: { body: `Order {{data.orderId}} ${v}` },
});

describe('updateTemplate with partial input, and hasUnpublishedChanges', () => {
  let t: TestApp;
  let q: (query: string, v?: Record<string, unknown>) => Promise<GraphQLResult>;
  beforeAll(async () => {
    t = await startTestApp();
    const ws = await t.newWorkspace();
    q = (query, v = {}) => t.gql(query, v, ws.adminKey);
  });
  afterAll(() => t.close());

  async function created(overrides: Record<string, unknown> = {}) {
    const input = { key: uid('tpl'), name: 'Order', channels: ['EMAIL', 'SMS'], content: content('v1'), ...overrides };
    return { input, tpl: ok(await q(Q.create, { i: input })).createTemplate };
  }

  it('changes only the fields given: one channel’s content keeps the others, the name, key and channels', async () => {
    const { input, tpl } = await created();
    const sms = { body: 'Now {{data.orderId}} v2' };
    const updated = ok(await q(Q.update, { id: tpl.id, i: { content: { sms } } })).updateTemplate;
    expect(updated).toMatchObject({
      key: input.key,
      name: 'Order',
      channels: ['EMAIL', 'SMS'],
      draft: { email: content('v1').email, sms },
    });
    const renamed = ok(await q(Q.update, { id: tpl.id, i: { name: 'Renamed' } })).updateTemplate;
    expect(renamed).toMatchObject({ key: input.key, name: 'Renamed', draft: { email: content('v1').email, sms } });
    const inline = await q(
      `mutation { updateTemplate(id: "${tpl.id}", input: { channels: [SMS, EMAIL] }) { channels name } }`,
    );
    expect(ok(inline).updateTemplate).toEqual({ channels: ['SMS', 'EMAIL'], name: 'Renamed' });
  });

  it('null removes a channel’s content; the merged draft is validated as a whole', async () => {
    const { tpl } = await created();
    const refused = await q(Q.update, { id: tpl.id, i: { content: { sms: null } } });
    expect(refused.errors?.[0]).toMatchObject({
      message: 'sms: content is missing for channel SMS',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const updated = ok(await q(Q.update, { id: tpl.id, i: { channels: ['EMAIL'], content: { sms: null } } }));
    expect(updated.updateTemplate.draft).toEqual({ email: content('v1').email });
    const bad = await q(Q.update, { id: tpl.id, i: { content: { email: { subject: '{{#if x}}' } } } });
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(ok(await q(Q.get, { id: tpl.id })).template.draft).toEqual({ email: content('v1').email });
  });

  it('the whole input still works (as before)', async () => {
    const { input, tpl } = await created();
    const whole = { ...input, name: 'Whole', content: content('v9') };
    expect(ok(await q(Q.update, { id: tpl.id, i: whole })).updateTemplate).toMatchObject({
      name: 'Whole',
      draft: content('v9'),
    });
  });

  it('createTemplate still needs every field, and names the missing ones', async () => {
    const res = await q(Q.create, { i: { key: uid('tpl'), content: content('v1') } });
    expect(res.errors?.[0]).toMatchObject({
      message: 'createTemplate needs name, channels (only updateTemplate takes some fields)',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('a key taken by another template is refused on a partial update too', async () => {
    const a = await created();
    const b = await created();
    const res = await q(Q.update, { id: b.tpl.id, i: { key: a.input.key } });
    expect(res.errors?.[0]).toMatchObject({
      message: `A template with key "${a.input.key}" already exists`,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('hasUnpublishedChanges: true before publishing, false after, true after an edit, false when edited back', async () => {
    const { tpl } = await created();
    expect(tpl).toMatchObject({ status: 'DRAFT', hasUnpublishedChanges: true });
    const published = ok(await q(Q.publish, { id: tpl.id })).publishTemplate;
    expect(published).toMatchObject({ status: 'PUBLISHED', publishedVersion: 1, hasUnpublishedChanges: false });

    // the name and key are not versioned: renaming publishes nothing
    expect(ok(await q(Q.update, { id: tpl.id, i: { name: 'x' } })).updateTemplate.hasUnpublishedChanges).toBe(false);

    const edited = ok(await q(Q.update, { id: tpl.id, i: { content: { sms: { body: 'changed' } } } })).updateTemplate;
    expect(edited).toMatchObject({ status: 'PUBLISHED', hasUnpublishedChanges: true });
    expect(edited.published).toEqual(content('v1'));
    expect(ok(await q(Q.list)).templates.find((x: any) => x.id === tpl.id).hasUnpublishedChanges).toBe(true);

    // back to the published content (keys in another order): nothing to publish
    const { email, sms } = content('v1');
    const back = { sms, email: { text: email.text, html: email.html, subject: email.subject } };
    expect(ok(await q(Q.update, { id: tpl.id, i: { content: back } })).updateTemplate.hasUnpublishedChanges).toBe(
      false,
    );

    // channels are versioned
    const reordered = ok(await q(Q.update, { id: tpl.id, i: { channels: ['SMS', 'EMAIL'] } })).updateTemplate;
    expect(reordered.hasUnpublishedChanges).toBe(true);
    expect(ok(await q(Q.publish, { id: tpl.id })).publishTemplate).toMatchObject({
      publishedVersion: 2,
      hasUnpublishedChanges: false,
    });
  });
});
