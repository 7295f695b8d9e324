import { Channel } from '../../src/domain/channel/channel.enum';
import { PermanentProviderError } from '../../src/domain/provider/provider.errors';
import { suppressionForErrorCode } from '../../src/domain/suppression/suppression.service';
import { twilioProvider } from '../../src/plugins/providers/twilio/twilio.provider';
import { sendContext } from '../helpers/fakes/send-context';
import { HttpFake } from '../helpers/fakes/http-fake';
import { TwilioFake } from '../helpers/fakes/twilio-fake';
import {
  configureProvider,
  createTemplate,
  historyOf,
  historyTypes,
  identify,
  message,
  send,
} from '../helpers/pipeline';
import { ok, startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/**
 * Suppression in routing, end to end (README, "Delivery tracking" → "Suppression"): real GraphQL, the real
 * worker, the log provider and a fake of Twilio's API. A suppressed address makes its channel unavailable
 * (history SUPPRESSED), also for REQUIRED topics; with no channel left the message is UNROUTABLE. Twilio's
 * error 21610 in the answer to a send suppresses the number.
 */
describe('suppression in routing', () => {
  let t: TestApp;
  let twilio: TwilioFake;

  beforeAll(async () => {
    t = await startTestApp();
    twilio = await TwilioFake.start();
  });
  afterAll(async () => {
    await t.close();
    await twilio.close();
  });

  const DAY = 86_400_000;
  const phone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

  /** A workspace with the log provider on EMAIL and SMS. */
  async function workspace(): Promise<TestWorkspace> {
    const ws = await t.newWorkspace();
    for (const channel of ['EMAIL', 'SMS']) {
      await configureProvider(t, { channel, provider: 'log', config: { label: channel } }, ws.adminKey);
    }
    return ws;
  }

  function template(ws: TestWorkspace, channels: string[], topic?: string) {
    return createTemplate(
      t,
      {
        key: uid('tpl'),
        name: 'Notice',
        channels,
        content: { email: { subject: 'Hi', text: 'Hi' }, sms: { body: 'Hi' }, whatsapp: { body: 'Hi' } },
        ...(topic ? { topic } : {}),
      },
      true,
      ws.adminKey,
    );
  }

  async function user(ws: TestWorkspace, traits: Record<string, unknown> = {}) {
    const userId = uid('user');
    const email = `${userId}@example.com`;
    const number = phone();
    await identify(t, userId, { email, phone_number: number, ...traits }, ws.ingestKey);
    return { userId, email, phone: number };
  }

  async function deliver(ws: TestWorkspace, userId: string, templateId: string) {
    const created = await send(t, { userId, templateId }, ws.adminKey);
    await t.worker().drain(300);
    return message(t, created.id, ws.adminKey);
  }

  async function addSuppression(ws: TestWorkspace, channel: string, address: string, reason = 'by hand') {
    return ok(
      await t.gql(
        'mutation($c: Channel!, $a: String!, $r: String!) { addSuppression(channel: $c, address: $a, reason: $r) { channel address reason expiresAt } }',
        { c: channel, a: address, r: reason },
        ws.adminKey,
      ),
    ).addSuppression;
  }

  it('SINGLE: a suppressed e-mail address moves on to SMS, with SUPPRESSED in the history', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL', 'SMS']);
    const u = await user(ws);
    await addSuppression(ws, 'EMAIL', u.email.toUpperCase(), 'HARD_BOUNCE');

    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, channel: m.channel }).toEqual({ status: 'SENT', channel: 'SMS' });
    expect(historyOf(m, 'SUPPRESSED')).toEqual([
      { channel: 'EMAIL', address: u.email, reason: 'HARD_BOUNCE', expiresAt: null },
    ]);
    const [channels] = historyOf(m, 'CHANNELS');
    expect(channels.available.map((c: any) => c.channel)).toEqual(['SMS']);
    expect(channels.unavailable).toEqual([{ channel: 'EMAIL', reasons: ['the address is suppressed (HARD_BOUNCE)'] }]);
    expect(m.deliveries.map((d: any) => d.channel)).toEqual(['SMS']);
  });

  it('the only channel suppressed: UNROUTABLE, reason SUPPRESSED', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL']);
    const u = await user(ws);
    await addSuppression(ws, 'EMAIL', u.email);

    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, reason: m.reason }).toEqual({ status: 'UNROUTABLE', reason: 'SUPPRESSED' });
    expect(historyTypes(m)).toEqual([
      'ENQUEUED',
      'TEMPLATE',
      'PROFILE',
      'RULES',
      'SUPPRESSED',
      'CHANNELS',
      'UNROUTABLE',
    ]);
    expect(m.deliveries).toEqual([]);
  });

  it('every channel suppressed: UNROUTABLE; another user is not affected', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL', 'SMS']);
    const u = await user(ws);
    await addSuppression(ws, 'EMAIL', u.email);
    await addSuppression(ws, 'SMS', u.phone);
    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, reason: m.reason }).toEqual({ status: 'UNROUTABLE', reason: 'SUPPRESSED' });
    expect(historyOf(m, 'SUPPRESSED').map((s: any) => s.channel)).toEqual(['EMAIL', 'SMS']);

    const other = await user(ws);
    const sent = await deliver(ws, other.userId, templateId);
    expect({ status: sent.status, channel: sent.channel }).toEqual({ status: 'SENT', channel: 'EMAIL' });
    expect(historyOf(sent, 'SUPPRESSED')).toEqual([]);
  });

  it('a REQUIRED topic does not override a suppression', async () => {
    const ws = await workspace();
    const created = await t.gql(
      'mutation { createTopic(input: { key: "security", name: "Security", defaultState: REQUIRED }) { key } }',
      {},
      ws.adminKey,
    );
    ok(created);
    const templateId = await template(ws, ['EMAIL'], 'security');
    const u = await user(ws);
    await addSuppression(ws, 'EMAIL', u.email);
    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, reason: m.reason }).toEqual({ status: 'UNROUTABLE', reason: 'SUPPRESSED' });
    expect(historyTypes(m)).toContain('TOPIC');
    expect(historyOf(m, 'SKIPPED_PREFERENCE')).toEqual([]);
    expect(historyOf(m, 'SUPPRESSED')).toHaveLength(1);
  });

  it('an expired suppression no longer blocks; a removed one neither', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL']);
    const u = await user(ws);
    const ctx = { workspaceId: ws.workspaceId };
    await t.services.suppressions.suppress(ctx, {
      channel: Channel.EMAIL,
      address: u.email,
      reason: 'SOFT_BOUNCES',
      expiresAt: new Date(Date.now() - DAY),
    });
    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, channel: m.channel }).toEqual({ status: 'SENT', channel: 'EMAIL' });
    expect(historyOf(m, 'SUPPRESSED')).toEqual([]);

    const until = new Date(Date.now() + DAY);
    await t.services.suppressions.suppress(ctx, {
      channel: Channel.EMAIL,
      address: u.email,
      reason: 'SOFT_BOUNCES',
      expiresAt: until,
    });
    const blocked = await deliver(ws, u.userId, templateId);
    expect(blocked.status).toBe('UNROUTABLE');
    expect(historyOf(blocked, 'SUPPRESSED')).toEqual([
      { channel: 'EMAIL', address: u.email, reason: 'SOFT_BOUNCES', expiresAt: until.toISOString() },
    ]);

    const removed = await t.gql(
      'mutation($a: String!) { removeSuppression(channel: EMAIL, address: $a) }',
      { a: u.email },
      ws.adminKey,
    );
    expect(ok(removed).removeSuppression).toBe(true);
    expect((await deliver(ws, u.userId, templateId)).status).toBe('SENT');
  });

  it('the one-message path (SendPipeline.run) reads suppressions too', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL', 'SMS']);
    const u = await user(ws);
    await addSuppression(ws, 'SMS', u.phone);
    await addSuppression(ws, 'EMAIL', u.email);
    const created = await send(t, { userId: u.userId, templateId }, ws.adminKey);
    expect(await t.services.pipeline.run(ws.workspaceId, created.id)).toEqual({ done: true });
    const m = await message(t, created.id, ws.adminKey);
    expect({ status: m.status, reason: m.reason }).toEqual({ status: 'UNROUTABLE', reason: 'SUPPRESSED' });
    await t.worker().drain(200); // its job finds it finished
    expect((await message(t, created.id, ws.adminKey)).history).toEqual(m.history);
  });

  it('opted out of one channel, the other suppressed: FILTERED, OPTED_OUT (the preference decides first)', async () => {
    const ws = await workspace();
    const templateId = await template(ws, ['EMAIL', 'SMS']);
    const u = await user(ws);
    ok(
      await t.gql(
        'mutation($u: String!) { setPreference(userId: $u, channel: EMAIL, state: OPTED_OUT) { state } }',
        { u: u.userId },
        ws.adminKey,
      ),
    );
    await addSuppression(ws, 'SMS', u.phone);
    const m = await deliver(ws, u.userId, templateId);
    expect({ status: m.status, reason: m.reason }).toEqual({ status: 'FILTERED', reason: 'OPTED_OUT' });
    expect(historyTypes(m)).toEqual(
      expect.arrayContaining(['SKIPPED_PREFERENCE', 'SUPPRESSED', 'CHANNELS', 'FILTERED']),
    );
  });

  it("SINGLE's failover to the next channel checks its address again: suppressed since routing, it is not sent", async () => {
    const ws = await workspace();
    const u = await user(ws);
    // the first channel's endpoint refuses the message; meanwhile the recipient's number gets suppressed
    const hook = await HttpFake.start(async () => {
      await t.services.suppressions.add({ workspaceId: ws.workspaceId }, Channel.SMS, u.phone, 'STOP by phone');
      return { status: 400, body: { error: 'refused' } };
    });
    try {
      await configureProvider(t, { channel: 'WEBHOOK', provider: 'webhook', config: { url: hook.url } }, ws.adminKey);
      const templateId = await createTemplate(
        t,
        {
          key: uid('tpl'),
          name: 'Hook then SMS',
          channels: ['WEBHOOK', 'SMS'],
          content: { webhook: { body: { n: 1 } }, sms: { body: 'Hi' } },
        },
        true,
        ws.adminKey,
      );
      const m = await deliver(ws, u.userId, templateId);
      expect(hook.requests).toHaveLength(1);
      expect({ status: m.status, reason: m.reason }).toEqual({
        status: 'UNDELIVERABLE',
        reason: 'ALL_CHANNELS_FAILED',
      });
      const [channels] = historyOf(m, 'CHANNELS');
      expect(channels.available.map((c: any) => c.channel)).toEqual(['WEBHOOK', 'SMS']);
      expect(historyOf(m, 'SUPPRESSED')).toEqual([
        { channel: 'SMS', address: u.phone, reason: 'STOP by phone', expiresAt: null },
      ]);
      expect(m.deliveries.map((d: any) => [d.channel, d.status])).toEqual([['WEBHOOK', 'FAILED']]);
    } finally {
      await hook.close();
    }
  });

  describe('Twilio error 21610 (the recipient replied STOP) in the answer to a send', () => {
    async function twilioWorkspace(channels = ['SMS']) {
      const ws = await t.newWorkspace();
      for (const channel of channels) {
        await configureProvider(
          t,
          {
            channel,
            provider: 'twilio',
            config: {
              accountSid: twilio.accountSid,
              authToken: twilio.authToken,
              from: '+14155550100',
              baseUrl: twilio.url,
            },
          },
          ws.adminKey,
        );
      }
      return ws;
    }

    it("the plugin keeps Twilio's code on the error", async () => {
      const number = phone();
      twilio.stopped.add(number);
      const err = await twilioProvider
        .send(
          sendContext({
            channel: Channel.SMS,
            settings: {
              accountSid: twilio.accountSid,
              authToken: twilio.authToken,
              from: '+14155550100',
              baseUrl: twilio.url,
            },
            address: number,
            content: { body: 'hi' },
          }) as never,
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentProviderError);
      expect(err).toMatchObject({ code: '21610', status: 400, retryable: false });
      expect((err as Error).message).toContain('error 21610');
      expect(suppressionForErrorCode(Channel.SMS, '21610')).toBe('STOP');
      expect(suppressionForErrorCode(Channel.WHATSAPP, 21610)).toBe('STOP');
      expect(suppressionForErrorCode(Channel.EMAIL, '21610')).toBeNull();
      expect(suppressionForErrorCode(Channel.SMS, '21211')).toBeNull();
    });

    it('suppresses the number (reason STOP); the next message is UNROUTABLE without calling Twilio', async () => {
      const ws = await twilioWorkspace();
      const templateId = await template(ws, ['SMS']);
      const u = await user(ws);
      twilio.stopped.add(u.phone);
      const metric = async () =>
        (await t.services.metrics.suppressions.get()).values.find(
          (v) => v.labels.channel === 'SMS' && v.labels.reason === 'STOP',
        )?.value ?? 0;
      const before = await metric();

      const first = await deliver(ws, u.userId, templateId);
      expect(first.status).toBe('UNDELIVERABLE');
      expect(first.deliveries).toEqual([expect.objectContaining({ provider: 'twilio', status: 'FAILED' })]);
      expect(first.deliveries[0].lastError).toContain('21610');
      const list = ok(
        await t.gql('{ suppressions { edges { node { channel address reason expiresAt } } } }', {}, ws.adminKey),
      ).suppressions.edges.map((e: any) => e.node);
      expect(list).toEqual([{ channel: 'SMS', address: u.phone, reason: 'STOP', expiresAt: null }]);
      expect(await metric()).toBe(before + 1);

      const calls = twilio.http.requests.length;
      const second = await deliver(ws, u.userId, templateId);
      expect({ status: second.status, reason: second.reason }).toEqual({ status: 'UNROUTABLE', reason: 'SUPPRESSED' });
      expect(historyOf(second, 'SUPPRESSED')).toEqual([
        { channel: 'SMS', address: u.phone, reason: 'STOP', expiresAt: null },
      ]);
      expect(twilio.http.requests.length).toBe(calls);
    });

    it('also on a retried try (after a 503) and on WhatsApp; other errors suppress nothing', async () => {
      const ws = await twilioWorkspace(['SMS', 'WHATSAPP']);
      const sms = await template(ws, ['SMS']);
      const u = await user(ws);
      twilio.stopped.add(u.phone);
      twilio.http.respondOnce({ status: 503, body: { code: 20500, message: 'down' } });
      const m = await deliver(ws, u.userId, sms);
      expect(m.status).toBe('UNDELIVERABLE');
      expect(m.deliveries[0].attempts).toBe(2);
      const ctx = { workspaceId: ws.workspaceId };
      const active = (channel: Channel, address: string) =>
        t.services.suppressions.activeIn(t.db, ctx, [{ channel, address }], new Date());
      expect([...(await active(Channel.SMS, u.phone)).values()].map((s) => s.reason)).toEqual(['STOP']);

      const whatsapp = await template(ws, ['WHATSAPP']);
      const w = await user(ws, { whatsapp: phone() });
      twilio.stopped.add(w.phone); // phone_number: not the WhatsApp address
      const wa = await user(ws);
      const waNumber = phone();
      await identify(t, wa.userId, { whatsapp: waNumber }, ws.ingestKey);
      twilio.stopped.add(waNumber);
      expect((await deliver(ws, wa.userId, whatsapp)).status).toBe('UNDELIVERABLE');
      expect((await active(Channel.WHATSAPP, waNumber)).size).toBe(1);
      expect((await deliver(ws, w.userId, whatsapp)).status).toBe('SENT');

      // a refused number (21211) is a failure, not a suppression
      const bad = await user(ws, { phone_number: '5551234567' }); // no +: Twilio answers 21211
      const refused = await deliver(ws, bad.userId, sms);
      expect(refused.status).toBe('UNDELIVERABLE');
      expect(refused.deliveries[0].lastError).toContain('21211');
      expect((await active(Channel.SMS, '5551234567')).size).toBe(0);
    });

    it('stops the failover to the next SMS provider: the number that replied STOP gets nothing more', async () => {
      const ws = await twilioWorkspace();
      await configureProvider(
        t,
        { channel: 'SMS', provider: 'log', priority: 1, config: { label: 'backup SMS' } },
        ws.adminKey,
      );
      const templateId = await template(ws, ['SMS']);

      // a number that did not reply STOP: Twilio first, the backup not needed
      const fine = await user(ws);
      const sent = await deliver(ws, fine.userId, templateId);
      expect(sent.deliveries.map((d: any) => [d.provider, d.status])).toEqual([['twilio', 'SENT']]);

      const u = await user(ws);
      twilio.stopped.add(u.phone);
      const m = await deliver(ws, u.userId, templateId);
      expect({ status: m.status, reason: m.reason }).toEqual({
        status: 'UNDELIVERABLE',
        reason: 'ALL_CHANNELS_FAILED',
      });
      // Twilio's answer named the backup as next; the backup was not tried: the number is suppressed by then
      const [failed] = historyOf(m, 'ATTEMPT');
      expect(failed).toMatchObject({
        provider: 'twilio',
        outcome: 'FAILED',
        next: expect.objectContaining({ provider: 'log' }),
      });
      expect(m.deliveries.map((d: any) => [d.provider, d.status])).toEqual([['twilio', 'FAILED']]);
      expect(historyOf(m, 'SUPPRESSED')).toEqual([
        { channel: 'SMS', address: u.phone, reason: 'STOP', expiresAt: null },
      ]);
    });
  });
});
