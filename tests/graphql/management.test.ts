import { createHmac } from 'node:crypto';
import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createRule, createTemplate, identify, mapEvent, message, send } from '../helpers/pipeline';
import {
  failed,
  ok,
  startTestApp,
  uid,
  type GraphQLResult,
  type TestApp,
  type TestWorkspace,
} from '../helpers/test-app';

/**
 * The GraphQL management API (README.md, "From event to notification"): templates, previews, event mappings, routing
 * rules, provider configurations and plugins — each with its error codes, and scoped to the key's workspace.
 */

const TEMPLATE = 'id key name channels draft published publishedVersion status';
const RULE = 'id name templateId priority when action method channels enabled createdAt';
const PROVIDER = 'id channel provider priority enabled config';

const Q = {
  createTemplate: `mutation($i: TemplateInput!) { createTemplate(input: $i) { ${TEMPLATE} } }`,
  updateTemplate: `mutation($id: ID!, $i: TemplateInput!) { updateTemplate(id: $id, input: $i) { ${TEMPLATE} } }`,
  publishTemplate: `mutation($id: ID!) { publishTemplate(id: $id) { ${TEMPLATE} } }`,
  template: `query($id: ID, $key: String) { template(id: $id, key: $key) { ${TEMPLATE} } }`,
  templates: `{ templates { ${TEMPLATE} } }`,
  preview: `query($templateId: ID, $content: JSONObject, $data: JSONObject, $userId: String) {
    previewTemplate(templateId: $templateId, content: $content, data: $data, userId: $userId) { rendered missingVariables }
  }`,
  mapEvent: `mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName createdAt template { id key } } }`,
  unmapEvent: 'mutation($n: String!) { unmapEvent(eventName: $n) }',
  mappings: '{ mappings { eventName createdAt template { id key } } }',
  eventNames: '{ eventNames { name count lastSeenAt mapping { eventName template { id key } } } }',
  createRule: `mutation($i: RoutingRuleInput!) { createRoutingRule(input: $i) { ${RULE} } }`,
  updateRule: `mutation($id: ID!, $i: RoutingRuleInput!) { updateRoutingRule(id: $id, input: $i) { ${RULE} } }`,
  deleteRule: 'mutation($id: ID!) { deleteRoutingRule(id: $id) }',
  rules: `query($t: ID) { routingRules(templateId: $t) { ${RULE} } }`,
  configure: `mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { ${PROVIDER} } }`,
  deleteProvider: 'mutation($id: ID!) { deleteProvider(id: $id) }',
  providers: `{ providers { ${PROVIDER} } }`,
  plugins: '{ plugins { slug title channels settingsSchema } }',
  send: 'mutation($i: SendInput!) { send(input: $i) { id status } }',
  message: 'query($id: ID!) { message(id: $id) { id status } }',
  messages: '{ messages(first: 500) { edges { node { id } } } }',
  replay: 'mutation($f: EventFilter!) { replayEvents(filter: $f) }',
  events: `query($f: EventFilter) { events(first: 500, filter: $f) {
    edges { node { id name status message { id status reason template { id } } } } } }`,
};

const ALL_CHANNELS = ['EMAIL', 'SMS', 'PUSH', 'SLACK', 'MSTEAMS', 'WHATSAPP', 'WEBHOOK'];
const SLUGS = ['smtp', 'sendgrid', 'twilio', 'slack', 'msteams', 'fcm', 'webhook', 'log'];
const MASK = '********';
const UUID = '00000000-0000-4000-8000-000000000000';

/** Email + SMS content; `v` tags every string so versions can be told apart. */
function content(v = 'v1'): Record<string, any> {
  return {
    email: {
      subject: `Order {{data.orderId}} ${v}`,
      html: `<p>Hi {{profile.firstName}} ${v}</p>`,
      text: `Hi ${v}`,
    },
    sms: { body: `Order {{data.orderId}} ${v}` },
  };
}

function templateInput(overrides: Record<string, unknown> = {}): Record<string, any> {
  return { key: uid('tpl'), name: 'Order completed', channels: ['EMAIL', 'SMS'], content: content(), ...overrides };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GraphQL management API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** A fresh workspace and a `gql` bound to its admin key. */
  async function workspace(): Promise<TestWorkspace & { q: (query: string, v?: Record<string, unknown>) => any }> {
    const ws = await t.newWorkspace();
    return { ...ws, q: (query, v = {}) => t.gql(query, v, ws.adminKey) };
  }

  describe('templates', () => {
    it('createTemplate returns a DRAFT with the draft content and nothing published', async () => {
      const ws = await workspace();
      const input = templateInput();
      const { createTemplate } = ok(await ws.q(Q.createTemplate, { i: input }));
      expect(createTemplate).toEqual({
        id: expect.any(String),
        key: input.key,
        name: 'Order completed',
        channels: ['EMAIL', 'SMS'],
        draft: content('v1'),
        published: null,
        publishedVersion: null,
        status: 'DRAFT',
      });
    });

    it('updateTemplate edits the draft only: the published version keeps its content', async () => {
      const ws = await workspace();
      const input = templateInput();
      const { id } = ok(await ws.q(Q.createTemplate, { i: input })).createTemplate;
      const published = ok(await ws.q(Q.publishTemplate, { id })).publishTemplate;
      expect(published).toMatchObject({
        status: 'PUBLISHED',
        publishedVersion: 1,
        draft: content('v1'),
        published: content('v1'),
      });

      const updated = ok(
        await ws.q(Q.updateTemplate, {
          id,
          i: { ...input, name: 'Order completed (new)', channels: ['SMS', 'EMAIL'], content: content('v2') },
        }),
      ).updateTemplate;
      expect(updated).toEqual({
        id,
        key: input.key,
        name: 'Order completed (new)',
        channels: ['SMS', 'EMAIL'],
        draft: content('v2'),
        published: content('v1'),
        publishedVersion: 1,
        status: 'PUBLISHED',
      });
      expect(ok(await ws.q(Q.template, { id })).template).toEqual(updated);
    });

    it('publishTemplate twice: publishedVersion 2 and `published` is the second content', async () => {
      const ws = await workspace();
      const input = templateInput();
      const { id } = ok(await ws.q(Q.createTemplate, { i: input })).createTemplate;
      expect(ok(await ws.q(Q.publishTemplate, { id })).publishTemplate).toMatchObject({
        publishedVersion: 1,
        published: content('v1'),
      });
      ok(await ws.q(Q.updateTemplate, { id, i: { ...input, content: content('v2') } }));
      const second = ok(await ws.q(Q.publishTemplate, { id })).publishTemplate;
      expect(second).toMatchObject({
        status: 'PUBLISHED',
        publishedVersion: 2,
        draft: content('v2'),
        published: content('v2'),
      });
      expect(ok(await ws.q(Q.template, { id })).template).toEqual(second);
    });

    it('template(id) and template(key) find the same template; unknown ones are null', async () => {
      const ws = await workspace();
      const input = templateInput();
      const created = ok(await ws.q(Q.createTemplate, { i: input })).createTemplate;
      expect(ok(await ws.q(Q.template, { id: created.id })).template).toEqual(created);
      expect(ok(await ws.q(Q.template, { key: input.key })).template).toEqual(created);
      expect(ok(await ws.q(Q.template, { id: UUID })).template).toBeNull();
      expect(ok(await ws.q(Q.template, { key: 'no-such-key' })).template).toBeNull();
      failed(await ws.q(Q.template, {}), 'BAD_USER_INPUT');
    });

    it('templates lists every template of the workspace', async () => {
      const ws = await workspace();
      expect(ok(await ws.q(Q.templates)).templates).toEqual([]);
      const a = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const b = ok(
        await ws.q(Q.createTemplate, { i: templateInput({ channels: ['SMS'], content: content('b') }) }),
      ).createTemplate;
      const listed = ok(await ws.q(Q.templates)).templates;
      expect(listed).toHaveLength(2);
      expect(listed).toEqual(expect.arrayContaining([a, b]));
    });

    it('a duplicate key is BAD_USER_INPUT, on create and on update; another workspace may reuse it', async () => {
      const ws = await workspace();
      const input = templateInput();
      ok(await ws.q(Q.createTemplate, { i: input }));
      failed(
        await ws.q(Q.createTemplate, { i: { ...input, name: 'Again' } }),
        'BAD_USER_INPUT',
        `A template with key "${input.key}" already exists`,
      );
      const other = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      failed(
        await ws.q(Q.updateTemplate, { id: other.id, i: { ...input, key: input.key } }),
        'BAD_USER_INPUT',
        `A template with key "${input.key}" already exists`,
      );
      expect(ok(await ws.q(Q.templates)).templates).toHaveLength(2);

      const ws2 = await workspace();
      expect(ok(await ws2.q(Q.createTemplate, { i: input })).createTemplate.key).toBe(input.key);
    });

    it('concurrent creates with one key: exactly one wins, the others are BAD_USER_INPUT', async () => {
      const ws = await workspace();
      // several rounds, so the check-then-insert race is hit reliably on MySQL/MariaDB
      for (let round = 0; round < 5; round++) {
        const input = templateInput();
        const results: GraphQLResult[] = await Promise.all(
          Array.from({ length: 6 }, (_, i) => ws.q(Q.createTemplate, { i: { ...input, name: `Racer ${i}` } })),
        );
        expect(results.filter((r) => !r.errors)).toHaveLength(1);
        for (const loser of results.filter((r) => r.errors)) {
          failed(loser, 'BAD_USER_INPUT', `A template with key "${input.key}" already exists`);
        }
      }
      expect(ok(await ws.q(Q.templates)).templates).toHaveLength(5);
    });

    it('concurrent publishes each get their own version: 1, 2, 3', async () => {
      const ws = await workspace();
      const { id } = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const results = await Promise.all([1, 2, 3].map(() => ws.q(Q.publishTemplate, { id })));
      results.forEach((r: GraphQLResult) => expect(ok(r).publishTemplate.status).toBe('PUBLISHED'));
      const versions = await t.db.rows<{ version: number }>(
        'SELECT version FROM template_versions WHERE template_id = ? ORDER BY version',
        [id],
      );
      expect(versions.map((v) => Number(v.version))).toEqual([1, 2, 3]);
      expect(ok(await ws.q(Q.template, { id })).template).toMatchObject({
        publishedVersion: 3,
        published: content('v1'),
      });
    });

    it('update and publish of an unknown id are NOT_FOUND', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.updateTemplate, { id: UUID, i: templateInput() }),
        'NOT_FOUND',
        `Template "${UUID}" not found`,
      );
      failed(await ws.q(Q.publishTemplate, { id: UUID }), 'NOT_FOUND', `Template "${UUID}" not found`);
    });

    it('an unclosed block is rejected on save with the channel, field and line', async () => {
      const ws = await workspace();
      const input = templateInput();
      input.content.email.html = '<p>Hello</p>\n<p>Your order</p>\n{{#if data.x}}<p>shipped</p>';
      const error = failed(
        await ws.q(Q.createTemplate, { i: input }),
        'BAD_USER_INPUT',
        'email.html: line 3, column 1: `{{#if}}` is never closed (add `{{/if}}`)',
      );
      expect(error.extensions).toMatchObject({ channel: 'EMAIL', field: 'html', line: 3 });
      expect(ok(await ws.q(Q.template, { key: input.key })).template).toBeNull();
    });

    it('an unterminated mustache is rejected with the channel, field and line', async () => {
      const ws = await workspace();
      const input = templateInput();
      input.content.email.html = '<p>Hello</p>\n<p>Your order</p>\n<p>{{data.x}</p>\n<p>Bye</p>';
      const error = failed(await ws.q(Q.createTemplate, { i: input }), 'BAD_USER_INPUT', /^email\.html: line 3, /);
      expect(error.extensions).toMatchObject({ channel: 'EMAIL', field: 'html', line: 3 });
    });

    it('an unclosed block followed by more lines is still located in email.html', async () => {
      const ws = await workspace();
      const input = templateInput();
      input.content.email.html = '<p>a</p>\n<p>b</p>\n{{#if data.x}}<p>c</p>\n<p>d</p>\n<p>e</p>';
      failed(await ws.q(Q.createTemplate, { i: input }), 'BAD_USER_INPUT', /^email\.html: line 3, column 1: /);
    });

    it('a mismatched close and errors in other channels name their own field; a failed update keeps the draft', async () => {
      const ws = await workspace();
      const input = templateInput();
      const { id } = ok(await ws.q(Q.createTemplate, { i: input })).createTemplate;

      const mismatched = { ...input, content: content('v2') };
      mismatched.content.email.html = '<p>a</p>\n<p>b</p>\n{{#if data.x}}c{{/each}}';
      failed(
        await ws.q(Q.updateTemplate, { id, i: mismatched }),
        'BAD_USER_INPUT',
        'email.html: line 3, column 16: `{{/each}}` does not match `{{#if}}` opened at line 3, column 1 (close it with `{{/if}}`)',
      );

      const badSms = { ...input, content: content('v2') };
      badSms.content.sms.body = 'Order {{data.orderId';
      const error = failed(
        await ws.q(Q.updateTemplate, { id, i: badSms }),
        'BAD_USER_INPUT',
        'sms.body: line 1, column 7: `{{` is never closed (expected `}}`)',
      );
      expect(error.extensions).toMatchObject({ channel: 'SMS', field: 'body', line: 1 });

      const badHook = {
        ...input,
        channels: ['WEBHOOK'],
        content: { webhook: { body: { order: '{{data.orderId}}', items: ['ok', '{{#each data.items}}'] } } },
      };
      failed(
        await ws.q(Q.updateTemplate, { id, i: badHook }),
        'BAD_USER_INPUT',
        'webhook.body.items[1]: line 1, column 1: `{{#each}}` is never closed (add `{{/each}}`)',
      );

      expect(ok(await ws.q(Q.template, { id })).template.draft).toEqual(content('v1'));
    });

    it('a listed channel without content is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      const input = templateInput({ channels: ['EMAIL', 'SMS'], content: { email: content().email } });
      failed(await ws.q(Q.createTemplate, { i: input }), 'BAD_USER_INPUT', 'sms: content is missing for channel SMS');
      expect(ok(await ws.q(Q.templates)).templates).toEqual([]);
    });

    it('an unknown channel key in content is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      const input = templateInput({ content: { ...content(), fax: { body: 'x' } } });
      failed(
        await ws.q(Q.createTemplate, { i: input }),
        'BAD_USER_INPUT',
        'content.fax: unknown channel "fax"; content keys are email, sms, push, slack, msteams, whatsapp, webhook',
      );
      expect(ok(await ws.q(Q.templates)).templates).toEqual([]);
    });
  });

  describe('previewTemplate', () => {
    it('by templateId renders the draft over the sample data, not the published version', async () => {
      const ws = await workspace();
      const input = templateInput();
      const { id } = ok(await ws.q(Q.createTemplate, { i: input })).createTemplate;
      expect(ok(await ws.q(Q.preview, { templateId: id, data: { orderId: 'A-1' } })).previewTemplate).toEqual({
        rendered: {
          email: { subject: 'Order A-1 v1', html: '<p>Hi  v1</p>', text: 'Hi v1' },
          sms: { body: 'Order A-1 v1' },
        },
        missingVariables: ['profile.firstName'],
      });

      ok(await ws.q(Q.publishTemplate, { id }));
      ok(await ws.q(Q.updateTemplate, { id, i: { ...input, content: content('v2') } }));
      const preview = ok(await ws.q(Q.preview, { templateId: id, data: { orderId: 'A-2' } })).previewTemplate;
      expect(preview.rendered.sms).toEqual({ body: 'Order A-2 v2' });
      expect(preview.rendered.email.subject).toBe('Order A-2 v2');
    });

    it('renders inline content, one entry per channel of the content', async () => {
      const ws = await workspace();
      const res = await ws.q(Q.preview, {
        content: {
          sms: { body: 'Hello {{data.name}}' },
          push: { title: 'T {{data.name}}', body: 'B' },
          webhook: { body: { who: '{{data.name}}', n: 1 } },
        },
        data: { name: 'Zed' },
      });
      expect(ok(res).previewTemplate).toEqual({
        rendered: {
          sms: { body: 'Hello Zed' },
          push: { title: 'T Zed', body: 'B' },
          webhook: { body: { who: 'Zed', n: 1 } },
        },
        missingVariables: [],
      });
    });

    it("with userId, the profile's traits (from an ingested identify) appear in the output", async () => {
      const ws = await workspace();
      const userId = uid();
      await identify(t, userId, { firstName: 'Ada', plan: 'pro' }, ws.ingestKey);
      const { id } = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const preview = ok(await ws.q(Q.preview, { templateId: id, userId })).previewTemplate;
      expect(preview).toEqual({
        rendered: {
          email: { subject: 'Order  v1', html: '<p>Hi Ada v1</p>', text: 'Hi v1' },
          sms: { body: 'Order  v1' },
        },
        missingVariables: ['data.orderId'],
      });

      const inline = await ws.q(Q.preview, {
        content: { slack: { text: '{{profile.firstName}} on {{profile.plan}}' } },
        userId,
      });
      expect(ok(inline).previewTemplate).toEqual({ rendered: { slack: { text: 'Ada on pro' } }, missingVariables: [] });
    });

    it('missingVariables lists each variable the sample lacks, once, sorted', async () => {
      const ws = await workspace();
      const res = await ws.q(Q.preview, {
        content: {
          email: { subject: 'Order {{data.orderId}}', text: 'Hi {{profile.firstName}}, order {{data.orderId}}' },
          sms: { body: '{{profile.firstName}}: {{data.total}} {{data.currency}}' },
        },
        data: { total: 5 },
        userId: uid('nobody'),
      });
      const preview = ok(res).previewTemplate;
      expect(preview.missingVariables).toEqual(['data.currency', 'data.orderId', 'profile.firstName']);
      expect(preview.rendered).toEqual({
        email: { subject: 'Order ', text: 'Hi , order ' },
        sms: { body: ': 5 ' },
      });
    });

    it('HTML-escapes email html only: `<b>` stays raw in the subject, text, sms and slack', async () => {
      const ws = await workspace();
      const res = await ws.q(Q.preview, {
        content: {
          email: { subject: 'S {{data.x}}', html: '<p>{{data.x}}</p>', text: 'T {{data.x}}' },
          sms: { body: '{{data.x}}' },
          slack: { text: '{{data.x}}' },
        },
        data: { x: '<b>bold</b> & co' },
      });
      expect(ok(res).previewTemplate.rendered).toEqual({
        email: {
          subject: 'S <b>bold</b> & co',
          html: '<p>&lt;b&gt;bold&lt;/b&gt; &amp; co</p>',
          text: 'T <b>bold</b> & co',
        },
        sms: { body: '<b>bold</b> & co' },
        slack: { text: '<b>bold</b> & co' },
      });
    });

    it('neither templateId nor content is BAD_USER_INPUT; an unknown templateId is NOT_FOUND; bad content is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.preview, { data: { x: 1 } }),
        'BAD_USER_INPUT',
        'previewTemplate needs templateId or content',
      );
      failed(await ws.q(Q.preview, { templateId: UUID }), 'NOT_FOUND', `Template "${UUID}" not found`);
      failed(
        await ws.q(Q.preview, { content: { sms: { body: 'a\n{{data.x' } } }),
        'BAD_USER_INPUT',
        /^sms\.body: line 2, column 1: /,
      );
    });
  });

  describe('mappings', () => {
    it('mapEvent is an upsert: mapping twice leaves one mapping, to the second template', async () => {
      const ws = await workspace();
      const name = `Segment-TrackEvent:Order ${uid('e')}`;
      const first = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const second = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const m1 = ok(await ws.q(Q.mapEvent, { n: name, t: first.id })).mapEvent;
      expect(m1).toEqual({
        eventName: name,
        createdAt: expect.any(String),
        template: { id: first.id, key: first.key },
      });
      const m2 = ok(await ws.q(Q.mapEvent, { n: name, t: second.id })).mapEvent;
      expect(m2).toEqual({
        eventName: name,
        createdAt: m1.createdAt,
        template: { id: second.id, key: second.key },
      });
      expect(ok(await ws.q(Q.mapEvent, { n: name, t: second.id })).mapEvent.template.id).toBe(second.id);
      expect(ok(await ws.q(Q.mappings)).mappings).toEqual([m2]);
    });

    it('eventNames shows names seen in the log with count, lastSeenAt and their mapping', async () => {
      const ws = await workspace();
      const event = `Signup ${uid('e')}`;
      const name = `Segment-TrackEvent:${event}`;
      const userId = uid();
      const before = Date.now();
      for (let i = 0; i < 2; i++) {
        const res = await t.send('/segment', { type: 'track', event, userId, messageId: uid('m') }, ws.ingestKey);
        expect(res.statusCode).toBe(202);
      }
      const seen = ok(await ws.q(Q.eventNames)).eventNames;
      expect(seen).toEqual([{ name, count: 2, lastSeenAt: expect.any(String), mapping: null }]);
      const lastSeen = new Date(seen[0].lastSeenAt).getTime();
      expect(lastSeen).toBeGreaterThanOrEqual(before - 1000);
      expect(lastSeen).toBeLessThanOrEqual(Date.now() + 1000);

      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      ok(await ws.q(Q.mapEvent, { n: name, t: tpl.id }));
      // a mapping for a name never seen does not make it a seen name; names are case-sensitive
      ok(await ws.q(Q.mapEvent, { n: name.toLowerCase(), t: tpl.id }));
      expect(ok(await ws.q(Q.eventNames)).eventNames).toEqual([
        {
          name,
          count: 2,
          lastSeenAt: seen[0].lastSeenAt,
          mapping: { eventName: name, template: { id: tpl.id, key: tpl.key } },
        },
      ]);
      expect(
        ok(await ws.q(Q.mappings))
          .mappings.map((m: any) => m.eventName)
          .sort(),
      ).toEqual([name, name.toLowerCase()].sort());
    });

    it('concurrent mapEvent calls for one name all succeed and leave one mapping', async () => {
      const ws = await workspace();
      const name = `Segment-TrackEvent:${uid('e')}`;
      const templates = [];
      for (let i = 0; i < 4; i++)
        templates.push(ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate);
      const results = await Promise.all(templates.map((tpl) => ws.q(Q.mapEvent, { n: name, t: tpl.id })));
      results.forEach((r: GraphQLResult) => ok(r));
      const mappings = ok(await ws.q(Q.mappings)).mappings;
      expect(mappings).toHaveLength(1);
      expect(templates.map((tpl) => tpl.id)).toContain(mappings[0].template.id);
    });

    it('unmapEvent returns true, then false', async () => {
      const ws = await workspace();
      const name = `Segment-TrackEvent:${uid('e')}`;
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      ok(await ws.q(Q.mapEvent, { n: name, t: tpl.id }));
      expect(ok(await ws.q(Q.unmapEvent, { n: name })).unmapEvent).toBe(true);
      expect(ok(await ws.q(Q.unmapEvent, { n: name })).unmapEvent).toBe(false);
      expect(ok(await ws.q(Q.mappings)).mappings).toEqual([]);
    });

    it('mapEvent to an unknown template is NOT_FOUND', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.mapEvent, { n: 'Segment-TrackEvent:X', t: UUID }),
        'NOT_FOUND',
        `Template "${UUID}" not found`,
      );
      expect(ok(await ws.q(Q.mappings)).mappings).toEqual([]);
    });

    it('mapEvent accepts a draft-only template; its messages end UNDELIVERABLE / UNPUBLISHED', async () => {
      const ws = await workspace();
      const event = `Draft ${uid('e')}`;
      const name = `Segment-TrackEvent:${event}`;
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      expect(tpl.status).toBe('DRAFT');
      expect(ok(await ws.q(Q.mapEvent, { n: name, t: tpl.id })).mapEvent.template.id).toBe(tpl.id);

      const userId = uid();
      await t.send('/segment', { type: 'track', event, userId, messageId: uid('m') }, ws.ingestKey);
      await t.worker().drain(300);
      const [edge] = ok(await ws.q(Q.events, { f: { name } })).events.edges;
      expect(edge.node).toMatchObject({
        name,
        status: 'MAPPED',
        message: { status: 'UNDELIVERABLE', reason: 'UNPUBLISHED', template: { id: tpl.id } },
      });
    });
  });

  describe('routing rules', () => {
    it('creates a rule with a valid `when`, defaults filled in', async () => {
      const ws = await workspace();
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const when = {
        all: [
          { path: 'data.total', op: 'GT', value: 100 },
          {
            any: [
              { path: 'profile.plan', op: 'IN', value: ['pro', 'team'] },
              { path: 'event.name', op: 'EXISTS' },
            ],
          },
          { not: { path: 'profile.unsubscribed', op: 'EQ', value: true } },
        ],
      };
      const rule = ok(
        await ws.q(Q.createRule, {
          i: { name: 'big orders by sms', templateId: tpl.id, priority: 3, when, action: 'ROUTE', channels: ['SMS'] },
        }),
      ).createRoutingRule;
      expect(rule).toEqual({
        id: expect.any(String),
        name: 'big orders by sms',
        templateId: tpl.id,
        priority: 3,
        when,
        action: 'ROUTE',
        method: 'SINGLE',
        channels: ['SMS'],
        enabled: true,
        createdAt: expect.any(String),
      });

      const suppress = ok(
        await ws.q(Q.createRule, { i: { name: 'quiet', priority: 0, action: 'SUPPRESS', enabled: false } }),
      ).createRoutingRule;
      expect(suppress).toMatchObject({
        templateId: null,
        when: null,
        action: 'SUPPRESS',
        method: null,
        channels: null,
        enabled: false,
      });
    });

    it.each([
      [
        'an unknown op',
        {
          all: [
            { path: 'data.a', op: 'EQ', value: 1 },
            { path: 'data.b', op: 'LIKE', value: 'x' },
          ],
        },
        /^when\.all\[1\]: unknown op "LIKE"; expected one of EQ NEQ GT GTE LT LTE IN NOT_IN INCLUDES EXISTS NOT_EXISTS STARTS_WITH ENDS_WITH IS_BEFORE IS_AFTER$/,
        'when.all[1]',
      ],
      [
        'a path outside data./profile./event.',
        { path: 'traits.plan', op: 'EQ', value: 'pro' },
        'when: path "traits.plan" must start with "data.", "profile." or "event."',
        'when',
      ],
      [
        'a path that only looks like data.',
        { any: [{ path: 'database.x', op: 'EXISTS' }] },
        'when.any[0]: path "database.x" must start with "data.", "profile." or "event."',
        'when.any[0]',
      ],
      [
        'a bare root as path',
        { not: { path: 'profile', op: 'EXISTS' } },
        'when.not: path "profile" must start with "data.", "profile." or "event."',
        'when.not',
      ],
      [
        'IN with a non-array value',
        { all: [{ path: 'profile.country', op: 'IN', value: 'DE' }] },
        'when.all[0]: op IN needs an array value, got "DE"',
        'when.all[0]',
      ],
      ['an empty any', { any: [] }, 'when: "any" must be a non-empty array of conditions, got an array', 'when'],
      [
        'an empty any nested',
        { all: [{ path: 'data.a', op: 'EXISTS' }, { any: [] }] },
        'when.all[1]: "any" must be a non-empty array of conditions, got an array',
        'when.all[1]',
      ],
    ])('rejects %s on save with BAD_USER_INPUT naming the node', async (_what, when, message, pointer) => {
      const ws = await workspace();
      const error = failed(
        await ws.q(Q.createRule, { i: { name: 'bad', priority: 0, when, action: 'ROUTE' } }),
        'BAD_USER_INPUT',
        message,
      );
      expect(error.extensions).toMatchObject({ pointer });
      expect(ok(await ws.q(Q.rules)).routingRules).toEqual([]);

      const id = ok(await ws.q(Q.createRule, { i: { name: 'good', priority: 0, action: 'ROUTE' } })).createRoutingRule
        .id;
      failed(
        await ws.q(Q.updateRule, { id, i: { name: 'bad', priority: 0, when, action: 'ROUTE' } }),
        'BAD_USER_INPUT',
        message,
      );
      expect(ok(await ws.q(Q.rules)).routingRules).toMatchObject([{ id, name: 'good', when: null }]);
    });

    it("routingRules(templateId) is the template's rules and the workspace-wide ones in evaluation order", async () => {
      const ws = await workspace();
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const other = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const ids: Record<string, string> = {};
      const rule = async (name: string, priority: number, templateId: string | null) => {
        ids[name] = await createRule(t, { name, priority, templateId, action: 'ROUTE' }, ws.adminKey);
        await sleep(15); // distinct createdAt, so "oldest first" is observable
      };
      await rule('workspace 5 old', 5, null);
      await rule('template 5 old', 5, tpl.id);
      await rule('workspace 1', 1, null);
      await rule('template 10', 10, tpl.id);
      await rule('workspace 5 new', 5, null);
      await rule('template 5 new', 5, tpl.id);
      await rule('other template 0', 0, other.id);
      await rule('workspace -3', -3, null);

      const names = (rules: any[]) => rules.map((r) => r.name);
      const forTpl = ok(await ws.q(Q.rules, { t: tpl.id })).routingRules;
      expect(names(forTpl)).toEqual([
        'workspace -3',
        'workspace 1',
        'template 5 old',
        'template 5 new',
        'workspace 5 old',
        'workspace 5 new',
        'template 10',
      ]);
      expect(forTpl.find((r: any) => r.name === 'template 10')).toMatchObject({ templateId: tpl.id, priority: 10 });
      expect(forTpl.find((r: any) => r.name === 'workspace 1')).toMatchObject({ templateId: null, priority: 1 });

      expect(names(ok(await ws.q(Q.rules, { t: other.id })).routingRules)).toEqual([
        'workspace -3',
        'other template 0',
        'workspace 1',
        'workspace 5 old',
        'workspace 5 new',
      ]);

      const all = ok(await ws.q(Q.rules)).routingRules;
      expect(names(all).sort()).toEqual(Object.keys(ids).sort());
      expect(all.map((r: any) => r.id).sort()).toEqual(Object.values(ids).sort());
    });

    it('updateRoutingRule replaces the rule; the order follows the new priority', async () => {
      const ws = await workspace();
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const a = ok(
        await ws.q(Q.createRule, { i: { name: 'a', priority: 1, action: 'ROUTE', templateId: tpl.id } }),
      ).createRoutingRule;
      const b = ok(await ws.q(Q.createRule, { i: { name: 'b', priority: 2, action: 'ROUTE' } })).createRoutingRule;
      const when = { path: 'profile.plan', op: 'EQ', value: 'free' };
      const updated = ok(
        await ws.q(Q.updateRule, {
          id: a.id,
          i: { name: 'a2', priority: 7, when, action: 'ROUTE', method: 'ALL', channels: ['SMS', 'EMAIL'] },
        }),
      ).updateRoutingRule;
      expect(updated).toEqual({
        id: a.id,
        name: 'a2',
        templateId: null,
        priority: 7,
        when,
        action: 'ROUTE',
        method: 'ALL',
        channels: ['SMS', 'EMAIL'],
        enabled: true,
        createdAt: a.createdAt,
      });
      expect(ok(await ws.q(Q.rules, { t: tpl.id })).routingRules.map((r: any) => r.id)).toEqual([b.id, a.id]);

      const suppressed = ok(
        await ws.q(Q.updateRule, {
          id: a.id,
          i: { name: 'a3', priority: 0, action: 'SUPPRESS', enabled: false, templateId: tpl.id },
        }),
      ).updateRoutingRule;
      expect(suppressed).toMatchObject({
        name: 'a3',
        templateId: tpl.id,
        when: null,
        action: 'SUPPRESS',
        method: null,
        channels: null,
        enabled: false,
      });
    });

    it('deleteRoutingRule returns true, then false', async () => {
      const ws = await workspace();
      const id = await createRule(t, { name: 'x', priority: 0, action: 'ROUTE' }, ws.adminKey);
      expect(ok(await ws.q(Q.deleteRule, { id })).deleteRoutingRule).toBe(true);
      expect(ok(await ws.q(Q.deleteRule, { id })).deleteRoutingRule).toBe(false);
      expect(ok(await ws.q(Q.rules)).routingRules).toEqual([]);
    });

    it('updating an unknown rule, or a rule for an unknown template, is NOT_FOUND', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.updateRule, { id: UUID, i: { name: 'x', priority: 0, action: 'ROUTE' } }),
        'NOT_FOUND',
        `Routing rule "${UUID}" not found`,
      );
      failed(
        await ws.q(Q.createRule, { i: { name: 'x', priority: 0, action: 'ROUTE', templateId: UUID } }),
        'NOT_FOUND',
        `Template "${UUID}" not found`,
      );
      const id = await createRule(t, { name: 'x', priority: 0, action: 'ROUTE' }, ws.adminKey);
      failed(
        await ws.q(Q.updateRule, { id, i: { name: 'x', priority: 0, action: 'ROUTE', templateId: UUID } }),
        'NOT_FOUND',
        `Template "${UUID}" not found`,
      );
      expect(ok(await ws.q(Q.rules)).routingRules).toMatchObject([{ id, templateId: null }]);
    });

    it('a SUPPRESS rule with channels or a method is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      for (const extra of [{ channels: ['SMS'] }, { method: 'ALL' }]) {
        failed(
          await ws.q(Q.createRule, { i: { name: 's', priority: 0, action: 'SUPPRESS', ...extra } }),
          'BAD_USER_INPUT',
          'a SUPPRESS rule takes no method or channels',
        );
      }
      expect(ok(await ws.q(Q.rules)).routingRules).toEqual([]);
    });
  });

  describe('providers and plugins', () => {
    let hook: HttpFake;
    beforeAll(async () => {
      hook = await HttpFake.start({ status: 200, body: { id: 'hook-1' } });
    });
    afterAll(() => hook.close());
    beforeEach(() => hook.reset());

    it('plugins lists the 8 installed plugins with the channels each can serve', async () => {
      const plugins = ok(await t.gql(Q.plugins)).plugins;
      expect(plugins.map((p: any) => p.slug).sort()).toEqual([...SLUGS].sort());
      const channels = Object.fromEntries(plugins.map((p: any) => [p.slug, p.channels]));
      expect(channels).toEqual({
        smtp: ['EMAIL'],
        sendgrid: ['EMAIL'],
        twilio: ['SMS', 'WHATSAPP'],
        slack: ['SLACK'],
        msteams: ['MSTEAMS'],
        fcm: ['PUSH'],
        webhook: ['WEBHOOK'],
        log: ALL_CHANNELS,
      });
      for (const p of plugins) {
        expect(typeof p.title).toBe('string');
        expect(p.title.length).toBeGreaterThan(0);
        expect(p.settingsSchema.type).toBe('object');
      }
    });

    it('every settings property, nested ones included, has a description; secrets have secret: true', async () => {
      const plugins = ok(await t.gql(Q.plugins)).plugins;
      const props: { pointer: string; name: string; property: any }[] = [];
      const walk = (schema: any, pointer: string) => {
        for (const [name, property] of Object.entries<any>(schema.properties ?? {})) {
          props.push({ pointer: `${pointer}.${name}`, name, property });
          walk(property, `${pointer}.${name}`);
          if (property.items) walk(property.items, `${pointer}.${name}[]`);
        }
      };
      for (const p of plugins) walk(p.settingsSchema, p.slug);
      expect(props.length).toBeGreaterThan(30);
      expect(props.some((p) => p.pointer === 'fcm.serviceAccount.private_key')).toBe(true);

      const undescribed = props.filter(
        ({ property }) => typeof property.description !== 'string' || property.description.trim() === '',
      );
      expect(undescribed.map((p) => p.pointer)).toEqual([]);

      const secret = (pointer: string) => props.find((p) => p.pointer === pointer)?.property.secret;
      for (const pointer of [
        'sendgrid.apiKey',
        'twilio.authToken',
        'smtp.password',
        'webhook.secret',
        'slack.botToken',
        'fcm.serviceAccount',
        'fcm.serviceAccount.private_key',
        'msteams.webhookUrl',
        'log.apiKey',
      ]) {
        expect([pointer, secret(pointer)]).toEqual([pointer, true]);
      }
      const secretLooking = props.filter(({ name }) =>
        /(password|secret|api_?key|token|private_?key|service_?account)$/i.test(name),
      );
      expect(secretLooking.filter((p) => p.property.secret !== true).map((p) => p.pointer)).toEqual([]);
      for (const pointer of ['sendgrid.fromEmail', 'twilio.accountSid', 'smtp.host', 'webhook.url', 'smtp.username']) {
        expect([pointer, secret(pointer) ?? false]).toEqual([pointer, false]);
      }
    });

    it('a sendgrid apiKey is masked by the API and encrypted at rest', async () => {
      const ws = await workspace();
      const apiKey = `SG.${uid('plain')}`;
      const configured = ok(
        await ws.q(Q.configure, {
          i: { channel: 'EMAIL', provider: 'sendgrid', config: { apiKey, fromEmail: 'shop@example.com' } },
        }),
      ).configureProvider;
      expect(configured).toEqual({
        id: expect.any(String),
        channel: 'EMAIL',
        provider: 'sendgrid',
        priority: 0,
        enabled: true,
        config: { apiKey: MASK, fromEmail: 'shop@example.com' },
      });
      expect(ok(await ws.q(Q.providers)).providers).toEqual([configured]);

      const rows = await t.db.rows<{ config: unknown }>('SELECT config FROM provider_configs WHERE id = ?', [
        configured.id,
      ]);
      expect(rows).toHaveLength(1);
      const raw = typeof rows[0].config === 'string' ? rows[0].config : JSON.stringify(rows[0].config);
      expect(raw).not.toContain(apiKey);
      expect(raw).not.toContain(apiKey.slice(3));
      const stored = JSON.parse(raw);
      expect(stored.fromEmail).toBe('shop@example.com');
      expect(stored.apiKey).toMatch(/^enc:v1:/);
    });

    it('an update sending the mask keeps the stored secret: the webhook still signs with the original one', async () => {
      const ws = await workspace();
      const secret = `whsec-${uid()}`;
      const id = await configureProvider(
        t,
        { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/v1`, secret } },
        ws.adminKey,
      );
      const [listed] = ok(await ws.q(Q.providers)).providers;
      expect(listed.config).toEqual({ url: `${hook.url}/v1`, secret: MASK });

      const updated = ok(
        await ws.q(Q.configure, {
          i: { id, channel: 'WEBHOOK', provider: 'webhook', config: { ...listed.config, timeoutMs: 5000 } },
        }),
      ).configureProvider;
      // (the URL stays: a masked secret never follows a changed URL, tests/graphql/provider-secrets.test.ts)
      expect(updated).toMatchObject({ id, config: { url: `${hook.url}/v1`, secret: MASK, timeoutMs: 5000 } });
      expect(ok(await ws.q(Q.providers)).providers).toHaveLength(1);
      const raw = (await t.db.rows<{ config: unknown }>('SELECT config FROM provider_configs WHERE id = ?', [id]))[0]
        .config;
      const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(MASK);

      const templateId = await createTemplate(
        t,
        {
          key: uid('hook'),
          name: 'Hook',
          channels: ['WEBHOOK'],
          content: { webhook: { body: { order: '{{data.orderId}}' } } },
        },
        true,
        ws.adminKey,
      );
      const sent = await send(t, { userId: uid(), templateId, data: { orderId: 'W-1' } }, ws.adminKey);
      await t.worker().drain(300);
      expect(await message(t, sent.id, ws.adminKey)).toMatchObject({ status: 'SENT', channel: 'WEBHOOK' });

      expect(hook.requests).toHaveLength(1);
      const req = hook.requests[0];
      expect(req.pathname).toBe('/v1');
      expect(req.json).toEqual({ order: 'W-1' });
      const expected = `sha256=${createHmac('sha256', secret).update(req.rawBody).digest('hex')}`;
      expect(req.headers['x-pigeon-signature']).toBe(expected);
      expect(req.headers['x-pigeon-signature']).not.toBe(
        `sha256=${createHmac('sha256', MASK).update(req.rawBody).digest('hex')}`,
      );

      // a new value replaces the secret
      ok(
        await ws.q(Q.configure, {
          i: { id, channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/v2`, secret: 'rotated' } },
        }),
      );
      hook.reset();
      const again = await send(t, { userId: uid(), templateId, data: { orderId: 'W-2' } }, ws.adminKey);
      await t.worker().drain(300);
      expect(await message(t, again.id, ws.adminKey)).toMatchObject({ status: 'SENT' });
      expect(hook.requests[0].headers['x-pigeon-signature']).toBe(
        `sha256=${createHmac('sha256', 'rotated').update(hook.requests[0].rawBody).digest('hex')}`,
      );
    });

    it('an fcm service account (a nested secret object) is masked whole and encrypted at rest', async () => {
      const ws = await workspace();
      const privateKey = `-----BEGIN PRIVATE KEY-----\n${uid('pem')}\n-----END PRIVATE KEY-----\n`;
      const serviceAccount = {
        client_email: 'pigeon@example.iam.gserviceaccount.com',
        private_key: privateKey,
        project_id: 'pigeon-test',
      };
      const configured = ok(
        await ws.q(Q.configure, {
          i: { channel: 'PUSH', provider: 'fcm', config: { serviceAccount, projectId: 'p' } },
        }),
      ).configureProvider;
      expect(configured.config).toEqual({ serviceAccount: MASK, projectId: 'p' });
      const raw = (
        await t.db.rows<{ config: unknown }>('SELECT config FROM provider_configs WHERE id = ?', [configured.id])
      )[0].config;
      const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
      expect(text).not.toContain(privateKey.split('\n')[1]);
      expect(text).not.toContain('gserviceaccount');
      expect(JSON.parse(text).serviceAccount).toMatch(/^enc:v1:/);

      // sending the mask back keeps it; the update is otherwise applied
      const updated = ok(
        await ws.q(Q.configure, {
          i: {
            id: configured.id,
            channel: 'PUSH',
            provider: 'fcm',
            config: { serviceAccount: MASK, projectId: 'p2' },
          },
        }),
      ).configureProvider;
      expect(updated.config).toEqual({ serviceAccount: MASK, projectId: 'p2' });
      const [open] = (await t.services.providerConfigs.enabled({ workspaceId: ws.workspaceId })).filter(
        (c) => c.id === configured.id,
      );
      expect(open.settings).toEqual({ serviceAccount, projectId: 'p2' });
    });

    it('an fcm service account given as its JSON text (as the plugin documents) is accepted', async () => {
      const ws = await workspace();
      const serviceAccount = JSON.stringify({
        client_email: 'pigeon@example.iam.gserviceaccount.com',
        private_key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n',
        project_id: 'pigeon-test',
      });
      const res = await ws.q(Q.configure, { i: { channel: 'PUSH', provider: 'fcm', config: { serviceAccount } } });
      expect(ok(res).configureProvider.config).toEqual({ serviceAccount: MASK });
    });

    it('the mask sent for a secret that was never stored does not become the secret', async () => {
      const ws = await workspace();
      const id = await configureProvider(
        t,
        { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/unsigned` } },
        ws.adminKey,
      );
      ok(
        await ws.q(Q.configure, {
          i: { id, channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/unsigned`, secret: MASK } },
        }),
      );
      const templateId = await createTemplate(
        t,
        { key: uid('hook'), name: 'Hook', channels: ['WEBHOOK'], content: { webhook: { body: { a: 1 } } } },
        true,
        ws.adminKey,
      );
      const sent = await send(t, { userId: uid(), templateId }, ws.adminKey);
      await t.worker().drain(300);
      expect(await message(t, sent.id, ws.adminKey)).toMatchObject({ status: 'SENT' });
      expect(hook.requests).toHaveLength(1);
      expect(hook.requests[0].headers['x-pigeon-signature']).toBeUndefined();
    });

    it('an unknown provider slug is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.configure, { i: { channel: 'SMS', provider: 'carrier-pigeon', config: {} } }),
        'BAD_USER_INPUT',
        `Unknown provider "carrier-pigeon"; installed: ${SLUGS.join(', ')}`,
      );
    });

    it('a provider that cannot serve the channel is BAD_USER_INPUT', async () => {
      const ws = await workspace();
      failed(
        await ws.q(Q.configure, {
          i: { channel: 'SMS', provider: 'sendgrid', config: { apiKey: 'SG.x', fromEmail: 'a@example.com' } },
        }),
        'BAD_USER_INPUT',
        'Provider "sendgrid" cannot serve SMS; it serves EMAIL',
      );
      expect(ok(await ws.q(Q.providers)).providers).toEqual([]);
    });

    it('settings that fail the schema are BAD_USER_INPUT naming the field', async () => {
      const ws = await workspace();
      const missingFrom = failed(
        await ws.q(Q.configure, { i: { channel: 'EMAIL', provider: 'sendgrid', config: { apiKey: 'SG.x' } } }),
        'BAD_USER_INPUT',
      );
      expect(missingFrom.message).toMatch(/^sendgrid: /);
      expect(missingFrom.message).toContain('fromEmail');
      const missingUrl = failed(
        await ws.q(Q.configure, { i: { channel: 'WEBHOOK', provider: 'webhook', config: { secret: 's' } } }),
        'BAD_USER_INPUT',
      );
      expect(missingUrl.message).toMatch(/^webhook: .*\burl\b/);
      failed(
        await ws.q(Q.configure, {
          i: { channel: 'EMAIL', provider: 'smtp', config: { host: 'h', from: 'a@example.com', port: 'x' } },
        }),
        'BAD_USER_INPUT',
        /^smtp: config\.port /,
      );
      expect(ok(await ws.q(Q.providers)).providers).toEqual([]);
    });

    it('deleteProvider returns true, then false; updating an unknown id is NOT_FOUND', async () => {
      const ws = await workspace();
      const id = await configureProvider(t, { channel: 'SMS', provider: 'log', config: {} }, ws.adminKey);
      expect(ok(await ws.q(Q.deleteProvider, { id })).deleteProvider).toBe(true);
      expect(ok(await ws.q(Q.deleteProvider, { id })).deleteProvider).toBe(false);
      expect(ok(await ws.q(Q.providers)).providers).toEqual([]);
      failed(
        await ws.q(Q.configure, { i: { id, channel: 'SMS', provider: 'log', config: {} } }),
        'NOT_FOUND',
        `Provider configuration "${id}" not found`,
      );
    });

    it('several configurations of one plugin coexist', async () => {
      const ws = await workspace();
      const a = await configureProvider(
        t,
        { channel: 'SMS', provider: 'log', config: { label: 'a' }, priority: 1 },
        ws.adminKey,
      );
      const b = await configureProvider(
        t,
        { channel: 'SMS', provider: 'log', config: { label: 'b', apiKey: 'k' }, priority: 0, enabled: false },
        ws.adminKey,
      );
      const c = await configureProvider(t, { channel: 'EMAIL', provider: 'log', config: { label: 'c' } }, ws.adminKey);
      const hook1 = await configureProvider(
        t,
        { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/1` } },
        ws.adminKey,
      );
      const hook2 = await configureProvider(
        t,
        { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/2`, secret: 's2' }, priority: 5 },
        ws.adminKey,
      );
      const providers = ok(await ws.q(Q.providers)).providers;
      expect(providers).toHaveLength(5);
      const byId = Object.fromEntries(providers.map((p: any) => [p.id, p]));
      expect(byId[a]).toEqual({
        id: a,
        channel: 'SMS',
        provider: 'log',
        priority: 1,
        enabled: true,
        config: { label: 'a' },
      });
      expect(byId[b]).toEqual({
        id: b,
        channel: 'SMS',
        provider: 'log',
        priority: 0,
        enabled: false,
        config: { label: 'b', apiKey: MASK },
      });
      expect(byId[c]).toMatchObject({ channel: 'EMAIL', provider: 'log', config: { label: 'c' } });
      expect(byId[hook1]).toMatchObject({ channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/1` } });
      expect(byId[hook2]).toMatchObject({ priority: 5, config: { url: `${hook.url}/2`, secret: MASK } });
    });
  });

  describe('workspace isolation', () => {
    it("a second workspace's admin key sees and changes none of workspace A's management data", async () => {
      const a = await workspace();
      const b = await workspace();
      const userId = uid();
      await identify(t, userId, { firstName: 'Ann' }, a.ingestKey);

      const tplInput = templateInput();
      const tA = ok(await a.q(Q.createTemplate, { i: tplInput })).createTemplate;
      ok(await a.q(Q.publishTemplate, { id: tA.id }));
      const mapped = `Segment-TrackEvent:Mapped ${uid('e')}`;
      await mapEvent(t, mapped, tA.id, a.adminKey);
      const ruleA = await createRule(
        t,
        { name: 'A rule', templateId: tA.id, priority: 1, action: 'ROUTE', channels: ['SMS'] },
        a.adminKey,
      );
      const ruleW = await createRule(t, { name: 'A wide', priority: 2, action: 'SUPPRESS' }, a.adminKey);
      const provA = await configureProvider(
        t,
        { channel: 'SMS', provider: 'log', config: { label: 'A', apiKey: 'a-secret' } },
        a.adminKey,
      );
      const msgA = ok(await a.q(Q.send, { i: { userId, templateId: tA.id, data: { orderId: 'A-1' } } })).send;

      const q = (query: string, v: Record<string, unknown> = {}) => b.q(query, v);
      // reads
      expect(ok(await q(Q.template, { id: tA.id })).template).toBeNull();
      expect(ok(await q(Q.template, { key: tA.key })).template).toBeNull();
      expect(ok(await q(Q.templates)).templates).toEqual([]);
      expect(ok(await q(Q.message, { id: msgA.id })).message).toBeNull();
      expect(ok(await q(Q.messages)).messages.edges).toEqual([]);
      expect(ok(await q(Q.rules)).routingRules).toEqual([]);
      expect(ok(await q(Q.rules, { t: tA.id })).routingRules).toEqual([]);
      expect(ok(await q(Q.providers)).providers).toEqual([]);
      expect(ok(await q(Q.mappings)).mappings).toEqual([]);
      expect(ok(await q(Q.eventNames)).eventNames).toEqual([]);
      failed(await q(Q.preview, { templateId: tA.id }), 'NOT_FOUND', `Template "${tA.id}" not found`);
      // the profile of A is not visible to B's preview either
      const preview = ok(await q(Q.preview, { content: { sms: { body: '{{profile.firstName}}' } }, userId }));
      expect(preview.previewTemplate).toEqual({
        rendered: { sms: { body: '' } },
        missingVariables: ['profile.firstName'],
      });

      // writes
      const notFound = `Template "${tA.id}" not found`;
      failed(
        await q(Q.updateTemplate, { id: tA.id, i: { ...tplInput, content: content('B') } }),
        'NOT_FOUND',
        notFound,
      );
      failed(await q(Q.publishTemplate, { id: tA.id }), 'NOT_FOUND', notFound);
      failed(await q(Q.mapEvent, { n: mapped, t: tA.id }), 'NOT_FOUND', notFound);
      failed(
        await q(Q.createRule, { i: { name: 'B', templateId: tA.id, priority: 0, action: 'ROUTE' } }),
        'NOT_FOUND',
        notFound,
      );
      failed(
        await q(Q.updateRule, { id: ruleA, i: { name: 'B', priority: 0, action: 'SUPPRESS' } }),
        'NOT_FOUND',
        `Routing rule "${ruleA}" not found`,
      );
      expect(ok(await q(Q.deleteRule, { id: ruleW })).deleteRoutingRule).toBe(false);
      failed(
        await q(Q.configure, { i: { id: provA, channel: 'SMS', provider: 'log', config: { label: 'B' } } }),
        'NOT_FOUND',
        `Provider configuration "${provA}" not found`,
      );
      expect(ok(await q(Q.deleteProvider, { id: provA })).deleteProvider).toBe(false);
      expect(ok(await q(Q.unmapEvent, { n: mapped })).unmapEvent).toBe(false);
      failed(await q(Q.send, { i: { userId, templateId: tA.id } }), 'NOT_FOUND', notFound);
      failed(await q(Q.send, { i: { userId, templateKey: tA.key } }), 'NOT_FOUND', `Template "${tA.key}" not found`);

      // A is untouched
      expect(ok(await a.q(Q.template, { id: tA.id })).template).toMatchObject({
        draft: content('v1'),
        published: content('v1'),
        publishedVersion: 1,
      });
      expect(ok(await a.q(Q.mappings)).mappings).toEqual([
        expect.objectContaining({ eventName: mapped, template: { id: tA.id, key: tA.key } }),
      ]);
      expect(
        ok(await a.q(Q.rules, { t: tA.id }))
          .routingRules.map((r: any) => [r.id, r.name, r.action])
          .sort(),
      ).toEqual(
        [
          [ruleA, 'A rule', 'ROUTE'],
          [ruleW, 'A wide', 'SUPPRESS'],
        ].sort(),
      );
      expect(ok(await a.q(Q.providers)).providers).toEqual([
        expect.objectContaining({ id: provA, config: { label: 'A', apiKey: MASK } }),
      ]);
      expect(ok(await a.q(Q.message, { id: msgA.id })).message).toMatchObject({ id: msgA.id });
      expect(ok(await q(Q.templates)).templates).toEqual([]);
      expect(ok(await q(Q.messages)).messages.edges).toEqual([]);
    });

    it("replayEvents in B never touches A's events, even for a name B has mapped", async () => {
      const a = await workspace();
      const b = await workspace();
      const event = `Replay ${uid('e')}`;
      const name = `Segment-TrackEvent:${event}`;
      const userId = uid();
      const track = () => t.send('/segment', { type: 'track', event, userId, messageId: uid('m') }, a.ingestKey);
      expect((await track()).statusCode).toBe(202);

      const tB = ok(await b.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      ok(await b.q(Q.mapEvent, { n: name, t: tB.id }));
      // B's mapping does not apply to A's ingest either
      expect((await track()).statusCode).toBe(202);

      expect(ok(await b.q(Q.replay, { f: { name } })).replayEvents).toBe(0);
      expect(ok(await b.q(Q.replay, { f: {} })).replayEvents).toBe(0);
      expect(ok(await b.q(Q.replay, { f: { userId } })).replayEvents).toBe(0);
      expect(ok(await b.q(Q.messages)).messages.edges).toEqual([]);
      expect(ok(await b.q(Q.events)).events.edges).toEqual([]);

      const aEvents = ok(await a.q(Q.events, { f: { name } })).events.edges.map((e: any) => e.node);
      expect(aEvents).toHaveLength(2);
      expect(aEvents.every((e: any) => e.status === 'UNMAPPED' && e.message === null)).toBe(true);
      expect(ok(await a.q(Q.messages)).messages.edges).toEqual([]);

      // A's own replay, once A maps the name, turns both into messages of A's template
      const tA = ok(await a.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      ok(await a.q(Q.mapEvent, { n: name, t: tA.id }));
      expect(ok(await a.q(Q.replay, { f: { name } })).replayEvents).toBe(2);
      const after = ok(await a.q(Q.events, { f: { name } })).events.edges.map((e: any) => e.node);
      expect(after.map((e: any) => [e.status, e.message?.template?.id])).toEqual([
        ['MAPPED', tA.id],
        ['MAPPED', tA.id],
      ]);
      expect(ok(await b.q(Q.messages)).messages.edges).toEqual([]);
    });
  });

  describe('an ingest key', () => {
    it('is FORBIDDEN on every management query and mutation, which change nothing', async () => {
      const ws = await workspace();
      const tpl = ok(await ws.q(Q.createTemplate, { i: templateInput() })).createTemplate;
      const ruleId = await createRule(t, { name: 'r', priority: 0, action: 'ROUTE' }, ws.adminKey);
      const providerId = await configureProvider(t, { channel: 'SMS', provider: 'log', config: {} }, ws.adminKey);
      const name = `Segment-TrackEvent:${uid('e')}`;
      await mapEvent(t, name, tpl.id, ws.adminKey);
      const newInput = templateInput();

      const operations: [string, string, Record<string, unknown>][] = [
        ['createTemplate', Q.createTemplate, { i: newInput }],
        ['updateTemplate', Q.updateTemplate, { id: tpl.id, i: { ...newInput, key: tpl.key } }],
        ['publishTemplate', Q.publishTemplate, { id: tpl.id }],
        ['mapEvent', Q.mapEvent, { n: `${name}-2`, t: tpl.id }],
        ['unmapEvent', Q.unmapEvent, { n: name }],
        ['createRoutingRule', Q.createRule, { i: { name: 'x', priority: 0, action: 'ROUTE' } }],
        ['updateRoutingRule', Q.updateRule, { id: ruleId, i: { name: 'x', priority: 9, action: 'SUPPRESS' } }],
        ['deleteRoutingRule', Q.deleteRule, { id: ruleId }],
        ['configureProvider', Q.configure, { i: { channel: 'EMAIL', provider: 'log', config: {} } }],
        [
          'configureProvider (update)',
          Q.configure,
          { i: { id: providerId, channel: 'SMS', provider: 'log', config: { label: 'x' } } },
        ],
        ['deleteProvider', Q.deleteProvider, { id: providerId }],
        ['send', Q.send, { i: { userId: uid(), templateId: tpl.id } }],
        ['replayEvents', Q.replay, { f: {} }],
        ['templates', Q.templates, {}],
        ['template', Q.template, { id: tpl.id }],
        ['previewTemplate', Q.preview, { templateId: tpl.id }],
        ['mappings', Q.mappings, {}],
        ['eventNames', Q.eventNames, {}],
        ['routingRules', Q.rules, {}],
        ['providers', Q.providers, {}],
        ['plugins', Q.plugins, {}],
      ];
      for (const [what, query, variables] of operations) {
        const res = await t.gql(query, variables, ws.ingestKey);
        expect([what, res.errors?.[0]?.extensions?.code]).toEqual([what, 'FORBIDDEN']);
        // nullable root fields read null, non-null ones null the whole data
        expect([what, Object.values(res.data ?? {}).filter((v) => v !== null)]).toEqual([what, []]);
      }

      expect(ok(await ws.q(Q.templates)).templates).toEqual([tpl]);
      expect(ok(await ws.q(Q.mappings)).mappings.map((m: any) => m.eventName)).toEqual([name]);
      expect(ok(await ws.q(Q.rules)).routingRules).toMatchObject([{ id: ruleId, name: 'r', priority: 0 }]);
      expect(ok(await ws.q(Q.providers)).providers).toMatchObject([{ id: providerId, config: {} }]);
      expect(ok(await ws.q(Q.messages)).messages.edges).toEqual([]);
    });
  });
});
