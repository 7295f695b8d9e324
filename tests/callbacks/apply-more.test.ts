import { HttpFake } from '../helpers/fakes/http-fake';
import { configureProvider, createTemplate, send } from '../helpers/pipeline';
import { isMysql, startTestApp, uid, type TestApp } from '../helpers/test-app';
import { CallbackApplier } from '../../src/pipeline/callback-applier';
import {
  callbackResults,
  callbackWorkspace,
  historyOf,
  sendAndDrain,
  startFakes,
  storeCallback,
  suppressionOf,
  tracked,
  user,
  type CallbackWorkspace,
  type Fakes,
} from './apply-helpers';

/** Twilio and webhook callbacks, ALL routing, the worker's own loop, and concurrent appliers. */
describe('applying provider callbacks: failures, ALL, webhooks, workers', () => {
  let t: TestApp;
  let fakes: Fakes;
  let cw: CallbackWorkspace;
  let all: CallbackWorkspace;

  beforeAll(async () => {
    t = await startTestApp();
    fakes = await startFakes();
    cw = await callbackWorkspace(t, fakes);
    all = await callbackWorkspace(t, fakes, true);
  });
  afterAll(async () => {
    await t.close();
    await fakes.sendgrid.close();
    await fakes.twilio.close();
  });

  const twilio = (w: CallbackWorkspace, externalId: string | null, outcome: any, extra: Record<string, unknown> = {}) =>
    storeCallback(t, w.ws, { configId: w.twilioId, provider: 'twilio', channel: 'SMS', externalId, outcome, ...extra });
  const sendgrid = (
    w: CallbackWorkspace,
    externalId: string | null,
    outcome: any,
    extra: Record<string, unknown> = {},
  ) =>
    storeCallback(t, w.ws, {
      configId: w.sendgridId,
      provider: 'sendgrid',
      channel: 'EMAIL',
      externalId,
      outcome,
      ...extra,
    });

  it('Twilio 21610 (STOP) on an SMS-only message: the delivery FAILED, the number suppressed, the message UNDELIVERABLE', async () => {
    const phone = `+1555${String(Date.now()).slice(-7)}`;
    const userId = await user(t, cw.ws, { phone_number: phone });
    const sent = await sendAndDrain(t, cw, userId);
    const sms = sent.deliveries[0];
    expect(sms).toMatchObject({ channel: 'SMS', status: 'SENT' });
    const ev = await twilio(cw, sms.externalId, 'FAILED', {
      reason: 'Attempt to send to unsubscribed recipient',
      errorCode: '21610',
    });
    await t.worker().drain(100);

    const m = await tracked(t, sent.id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'BOUNCED' });
    expect(m.deliveries[0]).toMatchObject({ status: 'FAILED', lastError: 'Attempt to send to unsubscribed recipient' });
    expect(historyOf(m, 'CALLBACK')[0]).toMatchObject({ outcome: 'FAILED', errorCode: '21610', applied: true });
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([
      { channel: 'SMS', next: null, reason: 'Attempt to send to unsubscribed recipient' },
    ]);
    expect(await suppressionOf(t, cw.ws, 'SMS', phone)).toMatchObject({ reason: 'STOP' });
    expect(await callbackResults(t, [ev])).toEqual({ [ev]: { result: 'APPLIED', applied: true } });
  });

  it('a failure reported after an e-mail was accepted fails over to SMS too', async () => {
    const userId = await user(t, cw.ws);
    const sent = await sendAndDrain(t, cw, userId);
    const before = fakes.twilio.accepted.length;
    await sendgrid(cw, sent.deliveries[0].externalId, 'FAILED', { reason: 'dropped: invalid' });
    await t.worker().drain(150);
    const m = await tracked(t, sent.id, cw.ws.adminKey);
    expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
    expect(m.deliveries.map((d: any) => [d.channel, d.status])).toEqual([
      ['EMAIL', 'FAILED'],
      ['SMS', 'SENT'],
    ]);
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([
      { channel: 'EMAIL', next: 'SMS', reason: 'dropped: invalid' },
    ]);
    expect(fakes.twilio.accepted.length).toBe(before + 1);
  });

  it('ALL: the first confirmed delivery makes the message DELIVERED; every channel bouncing ends it BOUNCED', async () => {
    const delivered = await sendAndDrain(t, all, await user(t, all.ws));
    expect(delivered.deliveries).toHaveLength(2);
    const sms = delivered.deliveries.find((d) => d.channel === 'SMS')!;
    await twilio(all, sms.externalId, 'DELIVERED');
    await t.worker().drain(50);
    let m = await tracked(t, delivered.id, all.ws.adminKey);
    expect(m.status).toBe('DELIVERED');
    expect(historyOf(m, 'DELIVERED')).toEqual([{ channels: ['EMAIL', 'SMS'], failedChannels: [] }]);

    const bounced = await sendAndDrain(t, all, await user(t, all.ws));
    const [email, sms2] = ['EMAIL', 'SMS'].map((c) => bounced.deliveries.find((d) => d.channel === c)!);
    await sendgrid(all, email.externalId, 'BOUNCED_HARD', { reason: 'no such user' });
    await t.worker().drain(50);
    m = await tracked(t, bounced.id, all.ws.adminKey);
    expect(m.status).toBe('SENT'); // the SMS may still arrive; ALL never fails over
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([]);
    await twilio(all, sms2.externalId, 'FAILED', { reason: 'undelivered', errorCode: '30003' });
    await t.worker().drain(50);
    m = await tracked(t, bounced.id, all.ws.adminKey);
    expect(m).toMatchObject({ status: 'UNDELIVERABLE', reason: 'BOUNCED' });
    expect(m.deliveries.map((d: any) => d.status).sort()).toEqual(['BOUNCED', 'FAILED']);
  });

  it('the webhook provider: callbacks name the delivery id, whatever id the receiver answered', async () => {
    const hook = await HttpFake.start({ status: 200, body: { id: 'receiver-42' } });
    try {
      const ws = await t.newWorkspace();
      const hookId = await configureProvider(
        t,
        { channel: 'WEBHOOK', provider: 'webhook', config: { url: `${hook.url}/in`, secret: 'whsec' } },
        ws.adminKey,
      );
      const templateId = await createTemplate(
        t,
        { key: `hook-${uid()}`, name: 'Hook', channels: ['WEBHOOK'], content: { webhook: { body: { a: 1 } } } },
        true,
        ws.adminKey,
      );
      const created = await send(t, { userId: uid(), templateId, data: {} }, ws.adminKey);
      await t.worker().drain(100);
      const [delivery] = (await t.services.messages.deliveriesOf([created.id])).get(created.id)!;
      expect(delivery).toMatchObject({ status: 'SENT', externalId: 'receiver-42' });

      const ev = await storeCallback(t, ws, {
        configId: hookId,
        provider: 'webhook',
        channel: 'WEBHOOK',
        externalId: delivery.id,
        outcome: 'DELIVERED',
      });
      // the receiver's own id matches too (it is the stored external id)
      const ev2 = await storeCallback(t, ws, {
        configId: hookId,
        provider: 'webhook',
        channel: 'WEBHOOK',
        externalId: 'receiver-42',
        outcome: 'DELIVERED',
      });
      await t.worker().drain(50);
      expect(await callbackResults(t, [ev, ev2])).toEqual({
        [ev]: { result: 'APPLIED', applied: true },
        [ev2]: { result: 'NO_EFFECT', applied: true },
      });
      expect((await tracked(t, created.id, ws.adminKey)).status).toBe('DELIVERED');
    } finally {
      await hook.close();
    }
  });

  it('a running worker applies callbacks stored while it is idle, within its poll interval', async () => {
    const sent = await sendAndDrain(t, cw, await user(t, cw.ws));
    const worker = t.worker();
    worker.start();
    try {
      await new Promise((r) => setTimeout(r, 100)); // idle, sleeping
      const ev = await sendgrid(cw, sent.deliveries[0].externalId, 'DELIVERED');
      const deadline = Date.now() + 3000;
      while ((await callbackResults(t, [ev]))[ev].result === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await callbackResults(t, [ev]))[ev].result).toBe('APPLIED');
    } finally {
      await worker.stop(1000);
    }
    expect((await tracked(t, sent.id, cw.ws.adminKey)).status).toBe('DELIVERED');
  });

  it('two appliers at once apply every row exactly once', async () => {
    const n = isMysql() ? 16 : 8;
    const userId = await user(t, cw.ws, { email: `many-${Date.now()}@example.com` });
    const sent: { id: string; externalId: string }[] = [];
    for (let i = 0; i < n; i++) {
      const s = await sendAndDrain(t, cw, userId, i);
      sent.push({ id: s.id, externalId: s.deliveries[0].externalId! });
    }
    const events: string[] = [];
    const base = Date.now() - 60_000;
    for (const [i, s] of sent.entries()) {
      for (const [k, outcome] of (['DELIVERED', 'OPENED', 'CLICKED'] as const).entries()) {
        events.push(await sendgrid(cw, s.externalId, outcome, { at: new Date(base + i * 1000 + k * 100) }));
      }
    }
    const appliers = [0, 1].map(
      () =>
        new CallbackApplier(
          {
            db: t.db,
            callbacks: t.services.callbackStore,
            store: t.services.messageStore,
            scheduler: t.services.queue,
            suppressions: t.services.suppressions,
          },
          { batchSize: 5 },
        ),
    );
    let failures = 0;
    let applied = 0;
    await Promise.all(
      appliers.map(async (a) => {
        for (let guard = 0; guard < 200; guard++) {
          try {
            const pass = await a.applyBatch([cw.ws.workspaceId]);
            applied += pass.applied;
            if (pass.claimed === 0) return;
          } catch {
            failures++; // a deadlock victim rolls back whole: its rows stay pending for the next pass
          }
        }
      }),
    );
    // whatever one applier skipped (locked by the other) is left to a last pass
    applied += await appliers[0].applyAll([cw.ws.workspaceId]);
    expect(applied).toBe(events.length);
    expect(failures).toBeLessThan(10);
    const results = await callbackResults(t, events);
    expect(Object.values(results).every((r) => r.applied && r.result !== null)).toBe(true);
    for (const s of sent) {
      const m = await tracked(t, s.id, cw.ws.adminKey);
      expect(m.status).toBe('DELIVERED');
      expect(historyOf(m, 'CALLBACK')).toHaveLength(3);
      expect(historyOf(m, 'DELIVERED')).toHaveLength(1);
      expect(m.deliveries[0].deliveredAt).not.toBeNull();
      expect(m.deliveries[0].openedAt).not.toBeNull();
      expect(m.deliveries[0].clickedAt).not.toBeNull();
    }
  });
});
