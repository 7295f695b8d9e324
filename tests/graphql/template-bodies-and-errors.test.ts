import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, historyOf, identify, message, send } from '../helpers/pipeline';
import { startTestApp, uid, type GraphQLResult, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * Issue 14, items 2 and 8 through GraphQL and the pipeline: a webhook body written as a JSON template string
 * (saved, previewed, sent; values JSON-escaped; not-JSON output fails the message for good with the reason the
 * preview shows) and template syntax errors in words, with field, line and column, at save and in previewTemplate.
 */

const Q = {
  create: 'mutation($i: TemplateInput!) { createTemplate(input: $i) { id draft } }',
  preview: `query($content: JSONObject, $data: JSONObject, $userId: String, $templateId: ID) {
    previewTemplate(content: $content, data: $data, userId: $userId, templateId: $templateId) { rendered missingVariables }
  }`,
};

const BODY = '{"order":"{{data.orderId}}","n":{{data.n}},"who":"{{profile.name}}","tags":{{profile.tags}}}';

describe('webhook bodies written as JSON text, and template syntax errors', () => {
  let t: TestApp;
  let hook: HttpFake;
  let ws: TestWorkspace;
  let q: (query: string, v?: Record<string, unknown>) => Promise<GraphQLResult>;
  beforeAll(async () => {
    t = await startTestApp();
    hook = await HttpFake.start({ status: 200, body: { id: 'hook-1' } });
    ws = await t.newWorkspace();
    q = (query, v = {}) => t.gql(query, v, ws.adminKey);
    await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/hook`, secret: 'whsec' } },
      ws.adminKey,
    );
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  async function deliver(body: string, userId: string, data: Record<string, unknown>) {
    const templateId = await createTemplate(
      t,
      { key: uid('hook'), name: 'Hook', channels: ['WEBHOOK'], content: { webhook: { body } } },
      true,
      ws.adminKey,
    );
    const created = await send(t, { userId, templateId, data }, ws.adminKey);
    await t.worker().drain(300);
    return message(t, created.id, ws.adminKey);
  }

  it('saves such a body (`}}}` included), previews it and posts the JSON with string values escaped', async () => {
    const userId = uid();
    const traits = { name: 'Ann "The" \\ Bo', tags: ['vip'], evil: 'x","admin":true,"y":"' };
    await identify(t, userId, traits, ws.ingestKey);
    const saved = await q(Q.create, {
      i: { key: uid('k'), name: 'n', channels: ['WEBHOOK'], content: { webhook: { body: BODY } } },
    });
    expect(saved.errors).toBeUndefined();

    const data = { orderId: 'A"1\\', n: 3 };
    const preview = await q(Q.preview, { content: { webhook: { body: BODY } }, data, userId });
    expect(preview.errors).toBeUndefined();
    const rendered = (preview.data as any).previewTemplate.rendered.webhook.body;
    expect(JSON.parse(rendered)).toEqual({ order: 'A"1\\', n: 3, who: traits.name, tags: ['vip'] });

    const before = hook.requests.length;
    const m = await deliver('{"order":"{{data.orderId}}","n":{{data.n}},"x":"{{profile.evil}}"}', userId, data);
    expect(m).toMatchObject({ status: 'SENT', channel: 'WEBHOOK' });
    const req = hook.requests[before];
    expect(req.json).toEqual({ order: 'A"1\\', n: 3, x: traits.evil });
    expect(Object.keys(req.json as object)).toEqual(['order', 'n', 'x']);
  });

  it('a rendered body that is not JSON: previewTemplate says why, and the message fails for good with that reason', async () => {
    const body = '{"order":"{{data.orderId}}","n":{{data.n}}';
    const preview = await q(Q.preview, { content: { webhook: { body } }, data: { orderId: 'A', n: 1 } });
    const error = preview.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).toMatch(/^webhook\.body: the rendered body is not valid JSON \(/);

    const userId = uid();
    await identify(t, userId, { name: 'x' }, ws.ingestKey);
    const before = hook.requests.length;
    const m = await deliver(body, userId, { orderId: 'A', n: 1 });
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'RENDER_FAILED', deliveries: [] });
    expect(historyOf(m, 'RENDERED')).toEqual([{ error: error?.message }]);
    expect(hook.requests.length).toBe(before);
  });

  it.each<[string, Record<string, unknown>, string, Record<string, unknown>]>([
    [
      'an unclosed block',
      { email: { subject: 's', html: '<p>a</p>\n<p>b</p>\n{{#if data.x}}<p>c</p>' } },
      'email.html: line 3, column 1: `{{#if}}` is never closed (add `{{/if}}`)',
      { channel: 'EMAIL', field: 'html', line: 3, column: 1 },
    ],
    [
      'an unclosed mustache',
      { sms: { body: 'Order\n  {{data.orderId' } },
      'sms.body: line 2, column 3: `{{` is never closed (expected `}}`)',
      { channel: 'SMS', field: 'body', line: 2, column: 3 },
    ],
    [
      'a close that was never opened, in a webhook leaf',
      { webhook: { body: { items: ['ok', 'a {{/each}}'] } } },
      'webhook.body.items[1]: line 1, column 3: `{{/each}}` closes a block that was never opened',
      { channel: 'WEBHOOK', field: 'body.items[1]', line: 1, column: 3 },
    ],
    [
      'an unknown helper',
      { slack: { text: 'x\n{{shout data.x}}' } },
      'slack.text: line 2, column 1: unknown helper "shout"; helpers are if, unless, each, with, lookup, default',
      { channel: 'SLACK', field: 'text', line: 2, column: 1 },
    ],
  ])('%s: the same words at save (BAD_USER_INPUT) and in previewTemplate', async (_, content, message, where) => {
    const channels = Object.keys(content).map((k) => k.toUpperCase());
    const saved = await q(Q.create, { i: { key: uid('k'), name: 'n', channels, content } });
    expect(saved.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT', ...where } });
    const preview = await q(Q.preview, { content, data: {} });
    expect(preview.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT', ...where } });
  });
});
