import {
  configureProvider,
  createRule,
  createTemplate,
  historyOf,
  historyTypes,
  identify,
  message,
  send,
} from '../helpers/pipeline';
import { failed, ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * Topics and preferences (README, "Preferences and topics"), through GraphQL and the real worker: the
 * decision is taken per channel when the message is sent, and recorded in its history.
 */
describe('topics and preferences', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const TOPIC = 'key name defaultState commercial';
  const PREF = 'topic channel state updatedAt';

  /** A workspace with the log provider on EMAIL, SMS and PUSH. */
  async function workspace(): Promise<TestWorkspace> {
    const ws = await t.newWorkspace();
    for (const channel of ['EMAIL', 'SMS', 'PUSH']) {
      await configureProvider(t, { channel, provider: 'log', config: { label: channel } }, ws.adminKey);
    }
    return ws;
  }

  const gql = (ws: TestWorkspace, query: string, variables: Record<string, unknown> = {}) =>
    t.gql(query, variables, ws.adminKey);

  async function createTopic(ws: TestWorkspace, input: Record<string, unknown>) {
    return ok(await gql(ws, `mutation($i: TopicInput!) { createTopic(input: $i) { ${TOPIC} } }`, { i: input }))
      .createTopic;
  }

  async function setPreference(ws: TestWorkspace, vars: Record<string, unknown>) {
    return ok(
      await gql(
        ws,
        `mutation($u: String!, $t: String, $c: Channel, $s: PreferenceState!) {
          setPreference(userId: $u, topic: $t, channel: $c, state: $s) { ${PREF} } }`,
        vars,
      ),
    ).setPreference;
  }

  /** A published template on EMAIL then SMS (then PUSH) with `topic`. */
  function template(ws: TestWorkspace, topic: string | null, channels = ['EMAIL', 'SMS']) {
    return createTemplate(
      t,
      {
        key: uid('tpl'),
        name: 'News',
        channels,
        content: { email: { subject: 'Hi', text: 'Hi' }, sms: { body: 'Hi' }, push: { title: 'Hi', body: 'Hi' } },
        ...(topic ? { topic } : {}),
      },
      true,
      ws.adminKey,
    );
  }

  async function user(ws: TestWorkspace, traits: Record<string, unknown> = {}) {
    const userId = uid('user');
    await identify(
      t,
      userId,
      { email: `${userId}@example.com`, phone_number: '+15555550100', firebaseToken: 'tok', ...traits },
      ws.ingestKey,
    );
    return userId;
  }

  async function deliver(ws: TestWorkspace, userId: string, templateId: string) {
    const created = await send(t, { userId, templateId }, ws.adminKey);
    await t.worker().drain(300);
    return message(t, created.id, ws.adminKey);
  }

  describe('GraphQL: topics', () => {
    it('createTopic: defaultState is what the caller gives, ON when omitted (never REQUIRED by default)', async () => {
      const ws = await workspace();
      expect(await createTopic(ws, { key: 'news', name: 'News' })).toEqual({
        key: 'news',
        name: 'News',
        defaultState: 'ON',
        commercial: false,
      });
      expect(
        await createTopic(ws, { key: 'promo', name: 'Promotions', defaultState: 'OFF', commercial: true }),
      ).toEqual({ key: 'promo', name: 'Promotions', defaultState: 'OFF', commercial: true });
      expect(ok(await gql(ws, `{ topics { ${TOPIC} } }`)).topics.map((x: any) => x.key)).toEqual(['news', 'promo']);

      const updated = ok(
        await gql(ws, `mutation { updateTopic(key: "news", input: { defaultState: REQUIRED }) { ${TOPIC} } }`),
      ).updateTopic;
      expect(updated).toEqual({ key: 'news', name: 'News', defaultState: 'REQUIRED', commercial: false });
    });

    it('bad input is BAD_USER_INPUT naming the field', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const create = (i: Record<string, unknown>) =>
        gql(ws, 'mutation($i: TopicInput!) { createTopic(input: $i) { key } }', { i });
      for (const [input, field] of [
        [{ key: 'news', name: 'Again' }, 'key'],
        [{ key: 'bad key!', name: 'X' }, 'key'],
        [{ name: 'X' }, 'key'],
        [{ key: 'x' }, 'name'],
        [{ key: 'x', name: '' }, 'name'],
      ] as const) {
        expect(failed(await create(input), 'BAD_USER_INPUT').extensions?.field).toBe(field);
      }
      const rename = await gql(ws, 'mutation { updateTopic(key: "news", input: { key: "other" }) { key } }');
      expect(failed(rename, 'BAD_USER_INPUT', /cannot change/).extensions?.field).toBe('key');
      failed(await gql(ws, 'mutation { updateTopic(key: "nope", input: { name: "x" }) { key } }'), 'NOT_FOUND');
      expect(ok(await gql(ws, 'mutation { deleteTopic(key: "nope") }')).deleteTopic).toBe(false);
    });

    it('templates and workflows must name an existing topic; deleteTopic is refused while one names it', async () => {
      const ws = await workspace();
      const create = (topic: string) =>
        gql(ws, 'mutation($i: TemplateInput!) { createTemplate(input: $i) { id topic } }', {
          i: { key: uid('t'), name: 'T', channels: ['SMS'], content: { sms: { body: 'x' } }, topic },
        });
      const unknown = failed(await create('news'), 'BAD_USER_INPUT', /topic: no topic "news" exists/);
      expect(unknown.extensions?.field).toBe('topic');
      const workflow = (topic: string) =>
        gql(ws, 'mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id key topic } }', {
          i: { key: uid('wf'), name: 'W', topic, steps: [{ ref: 's', type: 'send', template: 'x' }] },
        });
      expect(failed(await workflow('news'), 'BAD_USER_INPUT').extensions?.field).toBe('topic');

      await createTopic(ws, { key: 'news', name: 'News' });
      const tpl = ok(await create('news')).createTemplate;
      expect(tpl.topic).toBe('news');
      const del = () => gql(ws, 'mutation { deleteTopic(key: "news") }');
      const refused = failed(await del(), 'BAD_USER_INPUT', /still named by template/);
      expect(refused.extensions?.field).toBe('key');

      // "" removes the draft's topic; the published version still names it until the next publish
      await gql(ws, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: tpl.id });
      const cleared = ok(
        await gql(
          ws,
          'mutation($id: ID!) { updateTemplate(id: $id, input: { topic: "" }) { topic hasUnpublishedChanges } }',
          {
            id: tpl.id,
          },
        ),
      ).updateTemplate;
      expect(cleared).toEqual({ topic: null, hasUnpublishedChanges: true });
      failed(await del(), 'BAD_USER_INPUT', /still named by template/);
      await gql(ws, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: tpl.id });

      const wf = ok(await workflow('news')).createWorkflow;
      failed(await del(), 'BAD_USER_INPUT', new RegExp(`still named by workflow "${wf.key}"`));
      await gql(ws, 'mutation($id: ID!, $i: WorkflowInput!) { updateWorkflow(id: $id, input: $i) { id } }', {
        id: wf.id,
        i: { key: wf.key, name: 'W', steps: [{ ref: 's', type: 'send', template: 'x' }] },
      });
      expect(ok(await del()).deleteTopic).toBe(true);
      expect(ok(await gql(ws, '{ topics { key } }')).topics).toEqual([]);
    });
  });

  describe('GraphQL: preferences', () => {
    it('setPreference upserts one row per (user, topic or all, channel or all); clearPreference removes it', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const userId = await user(ws);
      await setPreference(ws, { u: userId, t: 'news', c: 'EMAIL', s: 'OPTED_OUT' });
      const again = await setPreference(ws, { u: userId, t: 'news', c: 'EMAIL', s: 'OPTED_IN' });
      expect(again).toMatchObject({ topic: 'news', channel: 'EMAIL', state: 'OPTED_IN' });
      await setPreference(ws, { u: userId, s: 'OPTED_OUT' });
      const prefs = () =>
        gql(ws, `query($u: String!) { profile(userId: $u) { preferences { ${PREF} } } }`, { u: userId });
      expect(ok(await prefs()).profile.preferences).toEqual([
        { topic: null, channel: null, state: 'OPTED_OUT', updatedAt: expect.any(String) },
        { topic: 'news', channel: 'EMAIL', state: 'OPTED_IN', updatedAt: expect.any(String) },
      ]);
      const clear = (vars: Record<string, unknown>) =>
        gql(
          ws,
          'mutation($u: String!, $t: String, $c: Channel) { clearPreference(userId: $u, topic: $t, channel: $c) }',
          vars,
        );
      expect(ok(await clear({ u: userId })).clearPreference).toBe(true);
      expect(ok(await clear({ u: userId })).clearPreference).toBe(false);
      expect(ok(await clear({ u: userId, t: 'news' })).clearPreference).toBe(false); // (news, all) is another row
      expect(ok(await prefs()).profile.preferences).toHaveLength(1);
    });

    it('bad input is BAD_USER_INPUT naming the field', async () => {
      const ws = await workspace();
      const set = (vars: Record<string, unknown>) =>
        gql(
          ws,
          'mutation($u: String!, $t: String, $s: PreferenceState!) { setPreference(userId: $u, topic: $t, state: $s) { state } }',
          vars,
        );
      expect(failed(await set({ u: 'u1', t: 'nope', s: 'OPTED_OUT' }), 'BAD_USER_INPUT').extensions?.field).toBe(
        'topic',
      );
      expect(failed(await set({ u: '', s: 'OPTED_OUT' }), 'BAD_USER_INPUT').extensions?.field).toBe('userId');
      expect((await set({ u: 'u1', s: 'MAYBE' })).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('decided at the moment of sending, per channel', () => {
    it('SINGLE moves on to the next channel; the history says which row decided', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateId = await template(ws, 'news');
      const userId = await user(ws);
      await setPreference(ws, { u: userId, t: 'news', c: 'EMAIL', s: 'OPTED_OUT' });
      const m = await deliver(ws, userId, templateId);
      expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
      expect(m.deliveries.map((d: any) => d.channel)).toEqual(['SMS']);
      expect(historyTypes(m)).toEqual([
        'ENQUEUED',
        'TEMPLATE',
        'PROFILE',
        'RULES',
        'TOPIC',
        'SKIPPED_PREFERENCE',
        'CHANNELS',
        'RENDERED',
        'ROUTED',
        'ATTEMPT',
        'SENT',
      ]);
      expect(historyOf(m, 'TOPIC')[0]).toEqual({
        key: 'news',
        found: true,
        defaultState: 'ON',
        commercial: false,
        from: 'template',
      });
      expect(historyOf(m, 'SKIPPED_PREFERENCE')[0]).toEqual({
        channel: 'EMAIL',
        topic: 'news',
        allowed: false,
        decidedBy: 'PREFERENCE',
        preference: { topic: 'news', channel: 'EMAIL', state: 'OPTED_OUT' },
      });
    });

    it('ALL drops only the opted-out channel', async () => {
      const ws = await workspace();
      const templateId = await template(ws, null, ['EMAIL', 'SMS', 'PUSH']);
      await createRule(
        t,
        { name: 'all', templateId, priority: 1, action: 'ROUTE', method: 'ALL', channels: ['EMAIL', 'SMS', 'PUSH'] },
        ws.adminKey,
      );
      const userId = await user(ws);
      await setPreference(ws, { u: userId, c: 'SMS', s: 'OPTED_OUT' }); // (all, SMS): no topic needed
      const m = await deliver(ws, userId, templateId);
      expect(m.status).toBe('SENT');
      expect(m.deliveries.map((d: any) => d.channel).sort()).toEqual(['EMAIL', 'PUSH']);
      expect(historyOf(m, 'SENT')[0]).toEqual({ channels: ['EMAIL', 'PUSH'], failedChannels: [] });
      expect(historyOf(m, 'SKIPPED_PREFERENCE')).toEqual([
        expect.objectContaining({
          channel: 'SMS',
          topic: null,
          preference: { topic: null, channel: 'SMS', state: 'OPTED_OUT' },
        }),
      ]);
    });

    it('no channel left: FILTERED, reason OPTED_OUT; the trait unsubscribed is an (all, all) opt-out', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateId = await template(ws, 'news');
      const userId = await user(ws, { unsubscribed: true });
      const m = await deliver(ws, userId, templateId);
      expect(m).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT', deliveries: [] });
      expect(historyOf(m, 'SKIPPED_PREFERENCE').map((h: any) => [h.channel, h.decidedBy])).toEqual([
        ['EMAIL', 'TRAIT'],
        ['SMS', 'TRAIT'],
      ]);
      expect(historyOf(m, 'FILTERED')).toEqual([{ reason: 'OPTED_OUT' }]);

      // a more specific row overrides the trait
      await setPreference(ws, { u: userId, t: 'news', c: 'SMS', s: 'OPTED_IN' });
      expect(await deliver(ws, userId, templateId)).toMatchObject({ status: 'SENT', channel: 'SMS' });
      // false removes it
      await identify(t, userId, { unsubscribed: false }, ws.ingestKey);
      expect(await deliver(ws, userId, templateId)).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    });

    it('an OFF topic goes only to those opted in; a REQUIRED one to everyone', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'promo', name: 'Promotions', defaultState: 'OFF' });
      await createTopic(ws, { key: 'security', name: 'Security', defaultState: 'REQUIRED' });
      const promo = await template(ws, 'promo');
      const security = await template(ws, 'security');
      const userId = await user(ws, { unsubscribed: true });
      await setPreference(ws, { u: userId, s: 'OPTED_OUT' });
      const off = await deliver(ws, userId, promo);
      expect(off).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      expect(await deliver(ws, userId, security)).toMatchObject({ status: 'SENT', channel: 'EMAIL' });

      const other = await user(ws);
      const byDefault = await deliver(ws, other, promo);
      expect(byDefault).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      expect(historyOf(byDefault, 'SKIPPED_PREFERENCE')[0]).toMatchObject({
        decidedBy: 'DEFAULT',
        defaultState: 'OFF',
      });
      await setPreference(ws, { u: other, t: 'promo', s: 'OPTED_IN' });
      expect(await deliver(ws, other, promo)).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    });

    it('a preference changed between enqueue and send is honoured (read when the send is routed)', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateId = await template(ws, 'news');
      const userId = await user(ws);
      const first = await send(t, { userId, templateId }, ws.adminKey);
      const second = await send(t, { userId, templateId }, ws.adminKey);
      expect([first.status, second.status]).toEqual(['ENQUEUED', 'ENQUEUED']);
      await setPreference(ws, { u: userId, t: 'news', s: 'OPTED_OUT' });
      await t.worker().drain(300);
      for (const m of [first, second]) {
        expect(await message(t, m.id, ws.adminKey)).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      }
      const third = await send(t, { userId, templateId }, ws.adminKey);
      await gql(ws, 'mutation($u: String!) { clearPreference(userId: $u, topic: "news") }', { u: userId });
      await t.worker().drain(300);
      expect(await message(t, third.id, ws.adminKey)).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    });

    it('the one-message path (run) reads them in its routing transaction too', async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateId = await template(ws, 'news');
      const userId = await user(ws);
      const queued = await send(t, { userId, templateId }, ws.adminKey);
      await setPreference(ws, { u: userId, t: 'news', c: 'EMAIL', s: 'OPTED_OUT' });
      expect(await t.services.pipeline.run(ws.workspaceId, queued.id)).toEqual({ done: true });
      const m = await message(t, queued.id, ws.adminKey);
      expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
      expect(historyOf(m, 'SKIPPED_PREFERENCE')).toEqual([expect.objectContaining({ channel: 'EMAIL' })]);

      const second = await send(t, { userId, templateId }, ws.adminKey);
      await setPreference(ws, { u: userId, s: 'OPTED_OUT' });
      await t.services.pipeline.run(ws.workspaceId, second.id);
      const filtered = await message(t, second.id, ws.adminKey);
      expect(filtered).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      expect(historyTypes(filtered).slice(-3)).toEqual(['SKIPPED_PREFERENCE', 'CHANNELS', 'FILTERED']);
      await t.worker().drain(300); // the queued jobs find their messages finished
    });

    it("the published version's topic decides, not the draft's; updateTopic applies to the next send", async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'promo', name: 'Promotions', defaultState: 'OFF' });
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateId = await template(ws, 'promo');
      await gql(ws, 'mutation($id: ID!) { updateTemplate(id: $id, input: { topic: "news" }) { id } }', {
        id: templateId,
      });
      const userId = await user(ws);
      expect(await deliver(ws, userId, templateId)).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      await gql(ws, 'mutation { updateTopic(key: "promo", input: { defaultState: ON }) { key } }');
      expect(await deliver(ws, userId, templateId)).toMatchObject({ status: 'SENT' });
      await gql(ws, 'mutation { updateTopic(key: "promo", input: { defaultState: OFF }) { key } }');
      await gql(ws, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: templateId });
      const m = await deliver(ws, userId, templateId);
      expect(m.status).toBe('SENT');
      expect(historyOf(m, 'TOPIC')[0]).toMatchObject({ key: 'news', defaultState: 'ON' });
    });

    it("a workflow's send is judged by the workflow's topic, before its template's", async () => {
      const ws = await workspace();
      await createTopic(ws, { key: 'digest', name: 'Digests', defaultState: 'OFF' });
      await createTopic(ws, { key: 'news', name: 'News' });
      const templateKey = uid('tpl');
      await createTemplate(
        t,
        {
          key: templateKey,
          name: 'T',
          topic: 'news',
          channels: ['EMAIL'],
          content: { email: { subject: 's', text: 't' } },
        },
        true,
        ws.adminKey,
      );
      const wf = ok(
        await gql(ws, 'mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id key } }', {
          i: {
            key: uid('wf'),
            name: 'W',
            topic: 'digest',
            steps: [{ ref: 'send', type: 'send', template: templateKey }],
          },
        }),
      ).createWorkflow;
      ok(await gql(ws, 'mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: wf.id }));
      const userId = await user(ws);
      const trigger = async () => {
        const run = ok(
          await gql(ws, 'mutation($i: TriggerInput!) { trigger(input: $i) { id } }', {
            i: { workflowKey: wf.key, userId },
          }),
        ).trigger;
        await t.worker().drain(300);
        const { workflowRun } = ok(
          await gql(ws, 'query($id: ID!) { workflowRun(id: $id) { messages { id } } }', { id: run.id }),
        );
        return message(t, workflowRun.messages[0].id, ws.adminKey);
      };
      const filtered = await trigger();
      expect(filtered).toMatchObject({ status: 'FILTERED', reason: 'OPTED_OUT' });
      expect(historyOf(filtered, 'TOPIC')[0]).toMatchObject({ key: 'digest', from: 'workflow', defaultState: 'OFF' });
      await setPreference(ws, { u: userId, t: 'digest', s: 'OPTED_IN' });
      expect(await trigger()).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    });

    it("a message for an anonymous id merged into a user is judged by that user's preferences", async () => {
      const ws = await workspace();
      const templateId = await template(ws, null);
      const userId = await user(ws);
      const anonymousId = uid('anon');
      expect((await t.send('/v1/alias', { userId, previousId: anonymousId }, ws.ingestKey)).statusCode).toBe(200);
      await setPreference(ws, { u: userId, c: 'EMAIL', s: 'OPTED_OUT' });
      expect(await deliver(ws, anonymousId, templateId)).toMatchObject({ status: 'SENT', channel: 'SMS' });
    });
  });
});
