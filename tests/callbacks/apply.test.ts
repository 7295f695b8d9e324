import { CallbackApplier } from '../../src/pipeline/callback-applier';
import { startTestApp, type TestApp } from '../helpers/test-app';
import {
  appliedCount,
  callbackResults,
  callbackWorkspace,
  historyOf,
  historyTypes,
  sendAndDrain,
  startFakes,
  storeCallback,
  suppressionOf,
  tracked,
  user,
  type CallbackWorkspace,
  type Fakes,
} from './apply-helpers';

/**
 * Stored provider callbacks applied by the workers (README, "Delivery tracking" → "What callbacks change"):
 * rows are written into `provider_callbacks` directly, then the worker (or the applier) runs.
 */
describe('applying provider callbacks', () => {
  let t: TestApp;
  let fakes: Fakes;
  let cw: CallbackWorkspace;

  beforeAll(async () => {
    t = await startTestApp();
    fakes = await startFakes();
    cw = await callbackWorkspace(t, fakes);
  });
  afterAll(async () => {
    await t.close();
    await fakes.sendgrid.close();
    await fakes.twilio.close();
  });

  /** A SINGLE message sent by e-mail (SendGrid) to a fresh user; its e-mail delivery. */
  async function emailed(traits?: Record<string, unknown>) {
    const userId = await user(t, cw.ws, traits);
    const sent = await sendAndDrain(t, cw, userId);
    const email = sent.deliveries.find((d) => d.channel === 'EMAIL')!;
    expect(email).toMatchObject({ status: 'SENT', provider: 'sendgrid' });
    expect(email.externalId).toBeTruthy();
    return { userId, id: sent.id, email };
  }

  const sendgrid = (externalId: string | null, outcome: any, extra: Record<string, unknown> = {}) =>
    storeCallback(t, cw.ws, {
      configId: cw.sendgridId,
      provider: 'sendgrid',
      channel: 'EMAIL',
      externalId,
      outcome,
      ...extra,
    });

  it('a delivered callback makes the delivery DELIVERED (with its time) and the message DELIVERED', async () => {
    const { id, email } = await emailed();
    const at = new Date(Date.now() - 5000);
    const before = await appliedCount(t, 'sendgrid', 'APPLIED');
    const ev = await sendgrid(email.externalId, 'DELIVERED', { at });
    await t.worker().drain(100);

    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'DELIVERED', channel: 'EMAIL' });
    expect(m.deliveries[0]).toMatchObject({ status: 'DELIVERED', deliveredAt: at.toISOString(), openedAt: null });
    expect(historyTypes(m).slice(-3)).toEqual(['SENT', 'CALLBACK', 'DELIVERED']);
    expect(historyOf(m, 'CALLBACK')[0]).toMatchObject({
      channel: 'EMAIL',
      provider: 'sendgrid',
      outcome: 'DELIVERED',
      at: at.toISOString(),
      applied: true,
    });
    expect(historyOf(m, 'DELIVERED')).toEqual([{ channel: 'EMAIL' }]);
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });
    expect(await appliedCount(t, 'sendgrid', 'APPLIED')).toBe(before + 1);
  });

  it('a second delivered callback for the same delivery changes nothing', async () => {
    const { id, email } = await emailed();
    const first = await sendgrid(email.externalId, 'DELIVERED');
    await t.worker().drain(50);
    const second = await sendgrid(email.externalId, 'DELIVERED', { at: new Date(Date.now() + 1000) });
    await t.worker().drain(50);

    const m = await tracked(t, id, cw.ws.adminKey);
    expect(historyOf(m, 'DELIVERED')).toHaveLength(1);
    expect(historyOf(m, 'CALLBACK').map((c) => c.applied)).toEqual([true, false]);
    expect(await callbackResults(t, [first, second])).toEqual({
      [first]: { result: 'APPLIED', applied: true },
      [second]: { result: 'NO_EFFECT', applied: true },
    });
  });

  it('opens and clicks set their first times and imply delivery; rows apply in the order they happened', async () => {
    const { id, email } = await emailed();
    const t0 = new Date(Date.now() - 60_000);
    const t1 = new Date(t0.getTime() + 10_000);
    const t2 = new Date(t0.getTime() + 20_000);
    // stored out of order: the later open and the delivery first, then the earliest open, then a click
    await sendgrid(email.externalId, 'DELIVERED', { at: t2 });
    await sendgrid(email.externalId, 'OPENED', { at: t2 });
    await sendgrid(email.externalId, 'OPENED', { at: t0 });
    await sendgrid(email.externalId, 'CLICKED', { at: t1 });
    await t.services.callbacks.applyAll([cw.ws.workspaceId]);

    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m.status).toBe('DELIVERED');
    expect(m.deliveries[0]).toMatchObject({
      status: 'DELIVERED',
      deliveredAt: t0.toISOString(), // the open at t0 implied it
      openedAt: t0.toISOString(),
      clickedAt: t1.toISOString(),
    });
    expect(historyOf(m, 'CALLBACK').map((c) => [c.outcome, c.at, c.applied])).toEqual([
      ['OPENED', t0.toISOString(), true],
      ['CLICKED', t1.toISOString(), true],
      ['DELIVERED', t2.toISOString(), false],
      ['OPENED', t2.toISOString(), false],
    ]);
  });

  it('a hard bounce of the channel SINGLE chose fails over to the next channel, once, and suppresses the address', async () => {
    const { userId, id, email } = await emailed();
    const sms = fakes.twilio.accepted.length;
    const ev = await sendgrid(email.externalId, 'BOUNCED_HARD', { reason: '550 5.1.1 user unknown' });
    await t.worker().drain(150);

    let m = await tracked(t, id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'SENT', channel: 'SMS', reason: null });
    expect(m.deliveries).toEqual([
      expect.objectContaining({ channel: 'EMAIL', status: 'BOUNCED', lastError: '550 5.1.1 user unknown' }),
      expect.objectContaining({ channel: 'SMS', provider: 'twilio', status: 'SENT' }),
    ]);
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([
      { channel: 'EMAIL', next: 'SMS', reason: '550 5.1.1 user unknown' },
    ]);
    expect(historyOf(m, 'CHANNEL_FAILED')).toEqual([]);
    expect(historyTypes(m).slice(-5)).toEqual(['SENT', 'CALLBACK', 'FAILOVER_AFTER_BOUNCE', 'ATTEMPT', 'SENT']);
    expect(fakes.twilio.accepted.length).toBe(sms + 1);
    expect(fakes.twilio.accepted[fakes.twilio.accepted.length - 1]).toMatchObject({ To: '+15555550123' });
    expect(await suppressionOf(t, cw.ws, 'EMAIL', `${userId}@example.com`.toLowerCase())).toMatchObject({
      reason: 'HARD_BOUNCE',
      expires_at: null,
    });
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });

    // the same bounce reported again (another event id): no second failover, no second SMS
    const again = await sendgrid(email.externalId, 'BOUNCED_HARD', { reason: '550 again' });
    await t.worker().drain(150);
    m = await tracked(t, id, cw.ws.adminKey);
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toHaveLength(1);
    expect(fakes.twilio.accepted.length).toBe(sms + 1);
    expect(historyOf(m, 'CALLBACK').map((c) => c.applied)).toEqual([true, false]);
    expect(await callbackResults(t, [again])).toEqual({ [again]: { result: 'NO_EFFECT', applied: true } });

    // a delivered report of the bounced e-mail, late: an end is never left
    await sendgrid(email.externalId, 'DELIVERED');
    await t.worker().drain(50);
    m = await tracked(t, id, cw.ws.adminKey);
    expect(m.status).toBe('SENT');
    expect(m.deliveries[0]).toMatchObject({ status: 'BOUNCED', deliveredAt: null });
    expect(historyOf(m, 'CALLBACK').slice(-1)[0]).toMatchObject({ outcome: 'DELIVERED', applied: false });
  });

  it('with no channel left after a bounce the message ends UNDELIVERABLE, reason BOUNCED', async () => {
    const { id, email } = await emailed({ email: `only-${Date.now()}@example.com` }); // no phone: EMAIL only
    await sendgrid(email.externalId, 'BOUNCED_HARD', { reason: 'mailbox does not exist' });
    await t.worker().drain(100);

    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'BOUNCED', channel: 'EMAIL' });
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([
      { channel: 'EMAIL', next: null, reason: 'mailbox does not exist' },
    ]);
    expect(historyTypes(m).slice(-1)).toEqual(['UNDELIVERABLE']);
    expect(historyOf(m, 'UNDELIVERABLE')).toEqual([{ reason: 'BOUNCED' }]);
  });

  it('a bounce after delivery leaves the delivery DELIVERED but still suppresses the address', async () => {
    const { userId, id, email } = await emailed();
    await sendgrid(email.externalId, 'DELIVERED');
    await t.worker().drain(50);
    const ev = await sendgrid(email.externalId, 'BOUNCED_HARD', { reason: 'late bounce' });
    await t.worker().drain(100);

    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'DELIVERED', channel: 'EMAIL' });
    expect(m.deliveries).toEqual([expect.objectContaining({ channel: 'EMAIL', status: 'DELIVERED' })]);
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([]);
    expect(await suppressionOf(t, cw.ws, 'EMAIL', `${userId}@example.com`.toLowerCase())).toMatchObject({
      reason: 'HARD_BOUNCE',
    });
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });
  });

  it('a spam complaint suppresses the address and leaves the status', async () => {
    const { userId, id, email } = await emailed();
    await sendgrid(email.externalId, 'SPAM_COMPLAINT');
    await t.worker().drain(50);
    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m.status).toBe('SENT');
    expect(m.deliveries[0].status).toBe('SENT');
    expect(await suppressionOf(t, cw.ws, 'EMAIL', `${userId}@example.com`.toLowerCase())).toMatchObject({
      reason: 'SPAM_COMPLAINT',
    });
  });

  it('an unsubscribe is recorded in the history only', async () => {
    const { userId, id, email } = await emailed();
    const ev = await sendgrid(email.externalId, 'UNSUBSCRIBED');
    await t.worker().drain(50);
    const m = await tracked(t, id, cw.ws.adminKey);
    expect(m.status).toBe('SENT');
    expect(historyOf(m, 'CALLBACK')).toEqual([expect.objectContaining({ outcome: 'UNSUBSCRIBED', applied: true })]);
    expect(await suppressionOf(t, cw.ws, 'EMAIL', `${userId}@example.com`.toLowerCase())).toBeUndefined();
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });
  });

  it('soft bounces of three different deliveries suppress the address for 7 days; statuses stay', async () => {
    const userId = await user(t, cw.ws, { email: `soft-${Date.now()}@example.com` });
    const sent = [];
    for (let n = 1; n <= 3; n++) sent.push(await sendAndDrain(t, cw, userId, n));
    for (const [i, s] of sent.entries()) {
      await sendgrid(s.deliveries[0].externalId, 'BOUNCED_SOFT', { reason: 'mailbox full' });
      await t.worker().drain(50);
      if (i < 2) {
        const rows = await t.db.rows('SELECT 1 FROM suppressions WHERE workspace_id = ? AND reason = ?', [
          cw.ws.workspaceId,
          'SOFT_BOUNCES',
        ]);
        expect(rows).toHaveLength(0);
      }
    }
    const rows = await t.db.rows<{ address: string; expires_at: unknown }>(
      'SELECT address, expires_at FROM suppressions WHERE workspace_id = ? AND reason = ?',
      [cw.ws.workspaceId, 'SOFT_BOUNCES'],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].expires_at).not.toBeNull();
    for (const s of sent) {
      const m = await tracked(t, s.id, cw.ws.adminKey);
      expect(m.status).toBe('SENT');
      expect(m.deliveries[0].status).toBe('SENT');
    }
  });

  it('a callback for no known delivery is kept as UNKNOWN_DELIVERY and counted, not an error', async () => {
    const before = await appliedCount(t, 'sendgrid', 'UNKNOWN_DELIVERY');
    const ev = await sendgrid('sg-no-such-message', 'DELIVERED');
    const none = await sendgrid(null, 'BOUNCED_HARD');
    await t.worker().drain(50);
    expect(await callbackResults(t, [ev, none])).toEqual({
      [ev]: { result: 'UNKNOWN_DELIVERY', applied: true },
      [none]: { result: 'UNKNOWN_DELIVERY', applied: true },
    });
    expect(await appliedCount(t, 'sendgrid', 'UNKNOWN_DELIVERY')).toBe(before + 2);
  });

  it('a callback that arrives while its message is still being sent waits for the send, then applies', async () => {
    const { id, email } = await emailed();
    // as if the send had not finished writing yet (the provider called back before Pigeon recorded it)
    await t.db.run("UPDATE messages SET status = 'ROUTED' WHERE id = ?", [id]);
    const ev = await sendgrid(email.externalId, 'DELIVERED');
    await t.services.callbacks.applyAll([cw.ws.workspaceId]);
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: null, applied: false } });
    await t.db.run("UPDATE messages SET status = 'SENT' WHERE id = ?", [id]);
    // the applier that held it back skips it for a second (held rows never crowd out newer ones)
    await t.services.callbacks.applyAll([cw.ws.workspaceId]);
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: null, applied: false } });
    await new Promise((r) => setTimeout(r, 1100));
    await t.services.callbacks.applyAll([cw.ws.workspaceId]);
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });
    expect((await tracked(t, id, cw.ws.adminKey)).status).toBe('DELIVERED');
  });
  it('a held callback does not hold up newer ones, even when it fills a whole batch', async () => {
    const first = await emailed();
    const second = await emailed();
    await t.db.run("UPDATE messages SET status = 'ROUTED' WHERE id = ?", [first.id]);
    const held = await sendgrid(first.email.externalId, 'DELIVERED');
    const newer = await sendgrid(second.email.externalId, 'DELIVERED');
    const oneAtATime = new CallbackApplier(
      {
        db: t.db,
        callbacks: t.services.callbackStore,
        store: t.services.messageStore,
        scheduler: t.services.queue,
        suppressions: t.services.suppressions,
      },
      { batchSize: 1 },
    );
    expect(await oneAtATime.applyBatch([cw.ws.workspaceId])).toEqual({ claimed: 1, applied: 0 });
    expect(await oneAtATime.applyBatch([cw.ws.workspaceId])).toEqual({ claimed: 1, applied: 1 });
    expect(await callbackResults(t, [held, newer])).toEqual({
      [held]: { result: null, applied: false },
      [newer]: { result: 'APPLIED', applied: true },
    });
    await t.db.run("UPDATE messages SET status = 'SENT' WHERE id = ?", [first.id]);
  });
});
