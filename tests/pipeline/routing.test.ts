import { HttpFake } from '../helpers/fakes/http-fake';
import { SmtpFake } from '../helpers/fakes/smtp-fake';
import {
  configureProvider,
  createRule,
  createTemplate,
  historyOf,
  historyTypes,
  identify,
  message,
  send,
  SMTP_LOGIN,
  smtpProvider,
} from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * The send pipeline end to end (README, "From event to notification: a walk-through"): real GraphQL,
 * the real worker, and local fakes of the providers' APIs (an SMTP server, an HTTP webhook receiver).
 */
describe('the send pipeline', () => {
  let t: TestApp;
  let smtp: SmtpFake;
  let hook: HttpFake;
  let backup: HttpFake;

  beforeAll(async () => {
    t = await startTestApp();
    smtp = await SmtpFake.start(SMTP_LOGIN);
    hook = await HttpFake.start({ status: 200, body: { id: 'hook-1' } });
    backup = await HttpFake.start({ status: 200, body: { id: 'backup-1' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
    await hook.close();
    await backup.close();
  });
  beforeEach(() => {
    hook.requests.length = 0;
    backup.requests.length = 0;
    hook.respond({ status: 200, body: { id: 'hook-1' } });
    backup.respond({ status: 200, body: { id: 'backup-1' } });
  });

  /** A fresh workspace with SMTP (EMAIL), log (SMS) and the webhook fake (WEBHOOK) configured. */
  async function workspace() {
    const ws = await t.newWorkspace();
    const smtpId = await configureProvider(t, smtpProvider(smtp), ws.adminKey);
    const smsId = await configureProvider(
      t,
      { channel: 'SMS', provider: 'log', config: { label: 'sms' } },
      ws.adminKey,
    );
    const hookId = await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/hook`, secret: 'whsec' } },
      ws.adminKey,
    );
    const templateId = await createTemplate(
      t,
      {
        key: `order-${uid()}`,
        name: 'Order completed',
        channels: ['EMAIL', 'SMS', 'WEBHOOK'],
        content: {
          email: {
            subject: 'Order {{data.orderId}}',
            html: '<p>Thanks {{profile.name}}, total {{data.total}}</p>',
            text: 'Thanks {{profile.name}}',
          },
          sms: { body: 'Order {{data.orderId}} confirmed' },
          webhook: { body: { order: '{{data.orderId}}', user: '{{profile.name}}' } },
        },
      },
      true,
      ws.adminKey,
    );
    return { ws, templateId, smtpId, smsId, hookId };
  }

  async function deliver(ws: { adminKey: string }, input: Record<string, unknown>) {
    const created = await send(t, input, ws.adminKey);
    expect(created.status).toBe('ENQUEUED');
    await t.worker().drain(300);
    return message(t, created.id, ws.adminKey);
  }

  it('without rules: the template channels, SINGLE — the first available channel is sent', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(
      t,
      userId,
      { email: `${userId}@example.com`, phone_number: '+15555550100', name: 'Ada' },
      ws.ingestKey,
    );
    const before = smtp.messages.length;
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'A-1', total: 42 } });
    expect(m).toMatchObject({ status: 'SENT', channel: 'EMAIL', reason: null, templateVersion: 1 });
    expect(m.deliveries).toEqual([
      expect.objectContaining({ channel: 'EMAIL', provider: 'smtp', status: 'SENT', attempts: 1 }),
    ]);
    expect(smtp.messages.length).toBe(before + 1);
    const mail = smtp.messages[smtp.messages.length - 1];
    expect(mail.subject).toBe('Order A-1');
    expect(mail.envelope.to).toEqual([`${userId}@example.com`]);
    expect(mail.html).toContain('Thanks Ada, total 42');
    expect(historyTypes(m)).toEqual([
      'ENQUEUED',
      'TEMPLATE',
      'PROFILE',
      'RULES',
      'CHANNELS',
      'RENDERED',
      'ROUTED',
      'ATTEMPT',
      'SENT',
    ]);
    expect(historyOf(m, 'RULES')[0]).toMatchObject({ evaluated: [], matched: null });
    expect(historyOf(m, 'CHANNELS')[0]).toMatchObject({ method: 'SINGLE', considered: ['EMAIL', 'SMS', 'WEBHOOK'] });
    expect(hook.requests).toHaveLength(0);
  });

  it('rules are evaluated by ascending priority, template rules first on ties; the first match decides', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(
      t,
      userId,
      { email: `${userId}@example.com`, phone_number: '+15555550101', plan: 'pro', name: 'Bo' },
      ws.ingestKey,
    );
    await createRule(t, { name: 'workspace sms', priority: 5, action: 'ROUTE', channels: ['SMS'] }, ws.adminKey);
    const big = await createRule(
      t,
      {
        name: 'big orders to webhook',
        templateId,
        priority: 5,
        when: {
          all: [
            { path: 'data.total', op: 'GT', value: 100 },
            { path: 'profile.plan', op: 'EQ', value: 'pro' },
          ],
        },
        action: 'ROUTE',
        channels: ['WEBHOOK'],
      },
      ws.adminKey,
    );
    await createRule(t, { name: 'disabled', priority: 1, action: 'SUPPRESS', enabled: false }, ws.adminKey);

    const large = await deliver(ws, { userId, templateId, data: { orderId: 'B-1', total: 500 } });
    expect(large).toMatchObject({ status: 'SENT', channel: 'WEBHOOK' });
    const rules = historyOf(large, 'RULES')[0];
    expect(rules.matched).toMatchObject({
      ruleId: big,
      name: 'big orders to webhook',
      action: 'ROUTE',
      channels: ['WEBHOOK'],
    });
    expect(rules.evaluated).toHaveLength(1);
    expect(rules.evaluated[0].trace).toEqual([
      expect.objectContaining({ path: 'data.total', op: 'GT', expected: 100, actual: 500, result: true }),
      expect.objectContaining({ path: 'profile.plan', op: 'EQ', expected: 'pro', actual: 'pro', result: true }),
    ]);
    const body = hook.requests[0].body;
    expect(JSON.parse(body)).toEqual({ order: 'B-1', user: 'Bo' });
    expect(hook.requests[0].headers['x-pigeon-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const small = await deliver(ws, { userId, templateId, data: { orderId: 'B-2', total: 5 } });
    expect(small).toMatchObject({ status: 'SENT', channel: 'SMS' });
    const smallRules = historyOf(small, 'RULES')[0];
    expect(smallRules.evaluated.map((e: any) => [e.name, e.holds])).toEqual([
      ['big orders to webhook', false],
      ['workspace sms', true],
    ]);
    expect(smallRules.evaluated[0].trace[0]).toMatchObject({ path: 'data.total', actual: 5, result: false });
  });

  it('SUPPRESS ends the message FILTERED, with the rule in the history', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, unsubscribed: true }, ws.ingestKey);
    await createRule(
      t,
      {
        name: 'unsubscribed',
        priority: 0,
        when: { path: 'profile.unsubscribed', op: 'EQ', value: true },
        action: 'SUPPRESS',
      },
      ws.adminKey,
    );
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'C-1' } });
    expect(m).toMatchObject({ status: 'FILTERED', reason: 'SUPPRESSED', deliveries: [] });
    expect(historyOf(m, 'RULES')[0].matched).toMatchObject({ name: 'unsubscribed', action: 'SUPPRESS' });
    expect(historyTypes(m).slice(-1)).toEqual(['FILTERED']);
  });

  it('SINGLE falls back to the next channel when the first one fails for good', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(
      t,
      userId,
      { email: `${userId}@example.com`, phone_number: '+15555550102', name: 'Cy' },
      ws.ingestKey,
    );
    smtp.failNext({ stage: 'RCPT', code: 550, message: 'No such user' });
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'D-1' } });
    expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
    expect(m.deliveries).toEqual([
      expect.objectContaining({
        channel: 'EMAIL',
        provider: 'smtp',
        status: 'FAILED',
        attempts: 1,
        lastError: expect.stringContaining('550'),
      }),
      expect.objectContaining({ channel: 'SMS', provider: 'log', status: 'SENT', attempts: 1 }),
    ]);
    const attempts = historyOf(m, 'ATTEMPT');
    expect(attempts[0]).toMatchObject({
      channel: 'EMAIL',
      outcome: 'FAILED',
      retryable: false,
      why: 'permanent error',
    });
    expect(historyOf(m, 'CHANNEL_FAILED')).toEqual([{ channel: 'EMAIL', next: 'SMS' }]);
  });

  it('ALL sends on every available channel and says which were unavailable', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, name: 'Di' }, ws.ingestKey);
    await createRule(
      t,
      {
        name: 'everything',
        templateId,
        priority: 0,
        action: 'ROUTE',
        method: 'ALL',
        channels: ['EMAIL', 'SMS', 'WEBHOOK'],
      },
      ws.adminKey,
    );
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'E-1' } });
    expect(m.status).toBe('SENT');
    expect(m.deliveries.map((d: any) => [d.channel, d.status]).sort()).toEqual([
      ['EMAIL', 'SENT'],
      ['WEBHOOK', 'SENT'],
    ]);
    expect(historyOf(m, 'CHANNELS')[0].unavailable).toEqual([
      { channel: 'SMS', reasons: ['the profile has no address (looked at phone_number, phone, sms)'] },
    ]);
    expect(hook.requests).toHaveLength(1);
  });

  it('retries a retryable failure with backoff, then fails over to the next provider by priority', async () => {
    const { ws, templateId, hookId } = await workspace();
    await configureProvider(
      t,
      { channel: 'WEBHOOK', provider: 'webhook', priority: 10, config: { url: `${backup.url}/backup` } },
      ws.adminKey,
    );
    await configureProvider(
      t,
      {
        id: hookId,
        channel: 'WEBHOOK',
        provider: 'webhook',
        priority: 1,
        config: { url: `${hook.url}/hook`, secret: '********' },
      },
      ws.adminKey,
    );
    hook.respond({ status: 503, body: 'down' });
    const userId = uid();
    await createRule(
      t,
      { name: 'hooks', templateId, priority: 0, action: 'ROUTE', channels: ['WEBHOOK'] },
      ws.adminKey,
    );
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'F-1' } });
    expect(m).toMatchObject({ status: 'SENT', channel: 'WEBHOOK' });
    expect(hook.requests).toHaveLength(3);
    expect(backup.requests).toHaveLength(1);
    // the same delivery id on every try of one provider; the secret kept through the masked update
    expect(new Set(hook.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(hook.requests[0].headers['x-pigeon-signature']).toBeDefined();
    expect(m.deliveries).toEqual([
      expect.objectContaining({
        provider: 'webhook',
        status: 'FAILED',
        attempts: 3,
        lastError: expect.stringContaining('503'),
      }),
      expect.objectContaining({ provider: 'webhook', status: 'SENT', attempts: 1, externalId: 'backup-1' }),
    ]);
    const outcomes = historyOf(m, 'ATTEMPT').map((a) => [a.attempt, a.outcome]);
    expect(outcomes).toEqual([
      [1, 'RETRY'],
      [2, 'RETRY'],
      [3, 'FAILED'],
      [1, 'SENT'],
    ]);
    expect(historyOf(m, 'ATTEMPT')[2]).toMatchObject({ why: 'out of tries (3)', retryable: true, status: 503 });
  });

  it("honours a provider's Retry-After", async () => {
    const { ws, templateId } = await workspace();
    await createRule(
      t,
      { name: 'hooks', templateId, priority: 0, action: 'ROUTE', channels: ['WEBHOOK'] },
      ws.adminKey,
    );
    hook.respondOnce({ status: 429, headers: { 'retry-after': '1' } });
    const created = await send(t, { userId: uid(), templateId, data: { orderId: 'G-1' } }, ws.adminKey);
    const worker = t.worker();
    await worker.drain(100);
    let m = await message(t, created.id, ws.adminKey);
    expect(m.status).toBe('ROUTED');
    expect(historyOf(m, 'ATTEMPT')[0]).toMatchObject({ outcome: 'RETRY', status: 429, retryInMs: 1000 });
    await worker.drain(1500);
    m = await message(t, created.id, ws.adminKey);
    expect(m.status).toBe('SENT');
    const [retried, sent] = m.history.filter((h: any) => h.type === 'ATTEMPT');
    expect(sent.detail.outcome).toBe('SENT');
    expect(Date.parse(sent.at) - Date.parse(retried.at)).toBeGreaterThanOrEqual(990);
  });

  it('UNROUTABLE when the profile has no address for any channel', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(t, userId, { name: 'No Address' }, ws.ingestKey);
    await createRule(
      t,
      { name: 'mail or sms', templateId, priority: 0, action: 'ROUTE', channels: ['EMAIL', 'SMS'] },
      ws.adminKey,
    );
    const m = await deliver(ws, { userId, templateId });
    expect(m).toMatchObject({ status: 'UNROUTABLE', reason: 'NO_AVAILABLE_CHANNEL', deliveries: [] });
    expect(historyOf(m, 'CHANNELS')[0].unavailable).toEqual([
      { channel: 'EMAIL', reasons: ['the profile has no address (looked at email)'] },
      { channel: 'SMS', reasons: ['the profile has no address (looked at phone_number, phone, sms)'] },
    ]);
  });

  it('a channel without a configured provider or template content is unavailable', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(t, userId, { slack: { channel: 'C1' }, firebaseToken: 'tok' }, ws.ingestKey);
    await createRule(
      t,
      { name: 'chat', templateId, priority: 0, action: 'ROUTE', channels: ['SLACK', 'PUSH'] },
      ws.adminKey,
    );
    const m = await deliver(ws, { userId, templateId });
    expect(m.status).toBe('UNROUTABLE');
    expect(historyOf(m, 'CHANNELS')[0].unavailable).toEqual([
      {
        channel: 'SLACK',
        reasons: ['the template has no slack content', 'no enabled provider is configured for SLACK'],
      },
      { channel: 'PUSH', reasons: ['the template has no push content', 'no enabled provider is configured for PUSH'] },
    ]);
  });

  it('UNDELIVERABLE with reason UNPUBLISHED when the template was never published', async () => {
    const { ws } = await workspace();
    const draftOnly = await createTemplate(
      t,
      { key: `draft-${uid()}`, name: 'Draft', channels: ['SMS'], content: { sms: { body: 'hi' } } },
      false,
      ws.adminKey,
    );
    const m = await deliver(ws, { userId: uid(), templateId: draftOnly });
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'UNPUBLISHED' });
    expect(historyOf(m, 'TEMPLATE')).toEqual([{ templateId: draftOnly, published: false }]);
  });

  it('UNDELIVERABLE with ALL_CHANNELS_FAILED when every channel fails', async () => {
    const { ws, templateId } = await workspace();
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, phone_number: '+15555550103' }, ws.ingestKey);
    const smsFail = await configureProvider(
      t,
      { channel: 'SMS', provider: 'log', priority: -1, config: { simulateFailure: 'permanent' } },
      ws.adminKey,
    );
    expect(smsFail).toBeDefined();
    await createRule(t, { name: 'sms only', templateId, priority: 0, action: 'ROUTE', channels: ['SMS'] }, ws.adminKey);
    // the failing log config has priority -1 and goes first; the normal one (0) then sends
    const first = await deliver(ws, { userId, templateId });
    expect(first.deliveries.map((d: any) => d.status)).toEqual(['FAILED', 'SENT']);
    const providers = await t.gql('{ providers { id provider priority enabled } }', {}, ws.adminKey);
    const healthy = providers.data!.providers.find((p: any) => p.provider === 'log' && p.priority === 0);
    await configureProvider(
      t,
      { id: healthy.id, channel: 'SMS', provider: 'log', config: {}, enabled: false },
      ws.adminKey,
    );
    const second = await deliver(ws, { userId, templateId });
    expect(second).toMatchObject({ status: 'UNDELIVERABLE', reason: 'ALL_CHANNELS_FAILED' });
  });

  it("a webhook template without a body posts the default document with Pigeon's ids", async () => {
    const { ws } = await workspace();
    const templateId = await createTemplate(
      t,
      { key: `plain-hook-${uid()}`, name: 'Plain hook', channels: ['WEBHOOK'], content: { webhook: {} } },
      true,
      ws.adminKey,
    );
    const userId = uid();
    const m = await deliver(ws, { userId, templateId, data: { orderId: 'P-1', total: 3 } });
    expect(m.status).toBe('SENT');
    const request = hook.requests[hook.requests.length - 1];
    expect(JSON.parse(request.body)).toEqual({
      event: null,
      userId,
      data: { orderId: 'P-1', total: 3 },
      messageId: m.id,
    });
    expect(request.headers['idempotency-key']).toEqual(expect.any(String));
  });

  it('send with an idempotencyKey returns the same message every time, and sends once', async () => {
    const { ws, templateId } = await workspace();
    await createRule(
      t,
      { name: 'hooks', templateId, priority: 0, action: 'ROUTE', channels: ['WEBHOOK'] },
      ws.adminKey,
    );
    const key = uid('idem');
    const input = { userId: uid(), templateId, data: { orderId: 'H-1' }, idempotencyKey: key };
    const results = await Promise.all([
      send(t, input, ws.adminKey),
      send(t, input, ws.adminKey),
      send(t, input, ws.adminKey),
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    await t.worker().drain(300);
    const again = await send(t, input, ws.adminKey);
    expect(again).toMatchObject({ id: results[0].id, status: 'SENT' });
    expect(hook.requests).toHaveLength(1);
  });

  it('send refuses unknown templates and bad input with clear errors', async () => {
    const { ws } = await workspace();
    const unknown = await t.gql('mutation { send(input: {userId: "u", templateKey: "nope"}) { id } }', {}, ws.adminKey);
    expect(unknown.errors![0]).toMatchObject({
      message: 'Template "nope" not found',
      extensions: { code: 'NOT_FOUND' },
    });
    const both = await t.gql(
      'mutation { send(input: {userId: "u", templateKey: "a", templateId: "b"}) { id } }',
      {},
      ws.adminKey,
    );
    expect(both.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
    const noUser = await t.gql('mutation { send(input: {userId: "", templateKey: "a"}) { id } }', {}, ws.adminKey);
    expect(noUser.errors![0]).toMatchObject({
      message: 'userId must be 1–255 characters',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});
