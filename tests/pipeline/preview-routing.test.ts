import { configureProvider, createRule, createTemplate, historyOf, identify, message, send } from '../helpers/pipeline';
import { failed, ok, startTestApp, uid, type TestApp } from '../helpers/test-app';

const PREVIEW = `query($t: ID!, $u: String!, $d: JSONObject) {
  previewRouting(templateId: $t, userId: $u, data: $d) { status reason method channels history { type detail } }
}`;

/** `previewRouting` (README, "Console" → routing rules): the real decision, nothing stored. */
describe('previewRouting', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function workspace() {
    const ws = await t.newWorkspace();
    await configureProvider(t, { channel: 'SMS', provider: 'log', config: { label: 'sms' } }, ws.adminKey);
    await configureProvider(t, { channel: 'EMAIL', provider: 'log', config: { label: 'mail' } }, ws.adminKey);
    const templateId = await createTemplate(
      t,
      {
        key: `order-${uid()}`,
        name: 'Order',
        channels: ['EMAIL', 'SMS'],
        content: { email: { subject: 'Order {{data.orderId}}', text: 'Hi' }, sms: { body: 'Order {{data.orderId}}' } },
      },
      true,
      ws.adminKey,
    );
    const userId = uid();
    await identify(
      t,
      userId,
      { email: `${userId}@example.com`, phone_number: '+15555550100', plan: 'pro' },
      ws.ingestKey,
    );
    const rule = await createRule(
      t,
      {
        name: 'big orders by sms',
        templateId,
        priority: 1,
        when: { all: [{ path: 'data.total', op: 'GT', value: 100 }] },
        action: 'ROUTE',
        channels: ['SMS'],
      },
      ws.adminKey,
    );
    await createRule(
      t,
      { name: 'quiet', priority: 2, action: 'SUPPRESS', when: { path: 'data.quiet', op: 'EQ', value: true } },
      ws.adminKey,
    );
    return { ws, templateId, userId, rule };
  }

  const counts = async (workspaceId: number) => {
    const [m] = await t.db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM messages WHERE workspace_id = ?', [
      workspaceId,
    ]);
    const [h] = await t.db.rows<{ n: number }>(
      'SELECT COUNT(*) AS n FROM message_history h JOIN messages m ON m.id = h.message_id WHERE m.workspace_id = ?',
      [workspaceId],
    );
    return { messages: Number(m.n), history: Number(h.n) };
  };

  it('decides as a real send does, with the rules evaluated and their trace, and stores nothing', async () => {
    const { ws, templateId, userId, rule } = await workspace();
    const before = await counts(ws.workspaceId);
    const { previewRouting: big } = ok(
      await t.gql(PREVIEW, { t: templateId, u: userId, d: { orderId: 'A', total: 500 } }, ws.adminKey),
    );
    expect(big).toMatchObject({ status: 'ROUTED', reason: null, method: 'SINGLE', channels: ['SMS'] });
    const rules = big.history.find((h: any) => h.type === 'RULES').detail;
    expect(rules.matched).toMatchObject({ ruleId: rule, name: 'big orders by sms', action: 'ROUTE' });
    expect(rules.evaluated[0].trace[0]).toMatchObject({ path: 'data.total', op: 'GT', actual: 500, result: true });
    expect(big.history.map((h: any) => h.type)).toEqual([
      'TEMPLATE',
      'PROFILE',
      'RULES',
      'CHANNELS',
      'RENDERED',
      'ROUTED',
    ]);

    const { previewRouting: quiet } = ok(
      await t.gql(PREVIEW, { t: templateId, u: userId, d: { total: 5, quiet: true } }, ws.adminKey),
    );
    expect(quiet).toMatchObject({ status: 'FILTERED', reason: 'SUPPRESSED', method: null, channels: [] });
    expect(await counts(ws.workspaceId)).toEqual(before);

    // the same inputs, really sent: the same RULES and CHANNELS entries
    const sent = await send(t, { userId, templateId, data: { orderId: 'A', total: 500 } }, ws.adminKey);
    await t.worker().drain(300);
    const real = await message(t, sent.id, ws.adminKey);
    expect(real.channel).toBe('SMS');
    expect(historyOf(real, 'RULES')[0]).toEqual(rules);
    expect(historyOf(real, 'CHANNELS')[0]).toEqual(big.history.find((h: any) => h.type === 'CHANNELS').detail);
  });

  it('without a rule that matches: the template channels; an unknown profile is UNROUTABLE', async () => {
    const { ws, templateId, userId } = await workspace();
    const { previewRouting: p } = ok(await t.gql(PREVIEW, { t: templateId, u: userId, d: { total: 1 } }, ws.adminKey));
    expect(p).toMatchObject({ status: 'ROUTED', channels: ['EMAIL', 'SMS'] });
    expect(p.history.find((h: any) => h.type === 'RULES').detail.matched).toBeNull();
    const { previewRouting: nobody } = ok(await t.gql(PREVIEW, { t: templateId, u: uid() }, ws.adminKey));
    expect(nobody).toMatchObject({ status: 'UNROUTABLE', reason: 'NO_AVAILABLE_CHANNEL' });
  });

  it('is workspace-scoped, needs an admin key, and refuses bad input with a code', async () => {
    const a = await workspace();
    const b = await t.newWorkspace();
    failed(await t.gql(PREVIEW, { t: a.templateId, u: a.userId }, b.adminKey), 'NOT_FOUND');
    failed(await t.gql(PREVIEW, { t: a.templateId, u: a.userId }, a.ws.ingestKey), 'FORBIDDEN');
    failed(await t.gql(PREVIEW, { t: a.templateId, u: '  ' }, a.ws.adminKey), 'BAD_USER_INPUT', /userId/);
  });
});
