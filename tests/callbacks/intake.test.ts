import { generateKeyPairSync } from 'node:crypto';
import { fromDbTime } from '../../src/db/dialect';
import { SendGridFake } from '../helpers/fakes/sendgrid-fake';
import { TwilioFake } from '../helpers/fakes/twilio-fake';
import { WebhookReceiverFake } from '../helpers/fakes/webhook-receiver';
import { startTestApp, type TestApp, type TestWorkspace } from '../helpers/test-app';
import { hookFor, post, PUBLIC_URL, storedRows, type Hook } from './intake-helpers';

/**
 * The intake of provider callbacks (README, "Delivery tracking"; CONTRACT §6): `POST /hooks/<callback id>`
 * verifies the exact bytes with the configuration's key, stores each event once, and answers only after the
 * commit; anything not verified is refused (401) with nothing stored.
 */
describe('provider callbacks: intake', () => {
  let t: TestApp;
  let ws: TestWorkspace;
  let sendgrid: SendGridFake;
  let twilio: TwilioFake;
  const receiver = new WebhookReceiverFake('whsec_receiver-secret');
  let sg: Hook;
  let sms: Hook;
  let whatsapp: Hook;
  let webhook: Hook;

  beforeAll(async () => {
    t = await startTestApp({ publicUrl: PUBLIC_URL });
    ws = t.ws;
    sendgrid = await SendGridFake.start();
    twilio = await TwilioFake.start();
    sg = await hookFor(t, ws, {
      channel: 'EMAIL',
      provider: 'sendgrid',
      config: {
        apiKey: 'SG.test-key',
        fromEmail: 'shop@example.com',
        baseUrl: sendgrid.url,
        webhookVerificationKey: sendgrid.verificationKey,
      },
    });
    const twilioConfig = {
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      from: '+14155550100',
      baseUrl: twilio.url,
    };
    sms = await hookFor(t, ws, { channel: 'SMS', provider: 'twilio', config: twilioConfig });
    whatsapp = await hookFor(t, ws, { channel: 'WHATSAPP', provider: 'twilio', config: twilioConfig });
    webhook = await hookFor(t, ws, {
      channel: 'WEBHOOK',
      provider: 'webhook',
      config: { url: 'https://receiver.example.com/pigeon', secret: receiver.secret },
    });
  });
  afterAll(async () => {
    await t.close();
    await sendgrid.close();
    await twilio.close();
  });

  describe('callback URLs', () => {
    it('a configuration whose plugin takes callbacks shows PIGEON_PUBLIC_URL/hooks/<opaque id>; others null', async () => {
      for (const hook of [sg, sms, whatsapp, webhook]) {
        expect(hook.callbackUrl).toMatch(/^https:\/\/pigeon\.example\.test\/hooks\/[A-Za-z0-9_-]{24}$/);
      }
      expect(new Set([sg, sms, whatsapp, webhook].map((h) => h.path)).size).toBe(4);
      const slack = await t.gql(
        `mutation { configureProvider(input: { channel: SLACK, provider: "slack", config: { botToken: "xoxb-1" } }) { id callbackUrl } }`,
      );
      expect(slack.errors).toBeUndefined();
      expect(slack.data!.configureProvider.callbackUrl).toBeNull();
    });

    it('an update keeps the callback id', async () => {
      const res = await t.gql(
        `mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id callbackUrl } }`,
        {
          i: {
            id: webhook.configId,
            channel: 'WEBHOOK',
            provider: 'webhook',
            config: { url: 'https://receiver.example.com/pigeon', secret: '********' },
            priority: 3,
          },
        },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!.configureProvider.callbackUrl).toBe(webhook.callbackUrl);
    });

    it('the id is unknown to another workspace’s admin key, and to nobody else', async () => {
      const other = await t.newWorkspace();
      const res = await t.gql<{ providers: unknown[] }>('{ providers { id callbackUrl } }', {}, other.adminKey);
      expect(res.data!.providers).toEqual([]);
    });
  });

  describe('SendGrid Event Webhook', () => {
    it('stores every tracked event of a signed batch, with its outcome, ids, time and reason', async () => {
      const xMessageId = 'sg-msg-batch1';
      const kinds = [
        'processed',
        'delivered',
        'deferred',
        'open',
        'click',
        'dropped',
        'spamreport',
        'unsubscribe',
        'group_unsubscribe',
      ] as const;
      const events = [
        ...kinds.map((k) => sendgrid.event(k, xMessageId)),
        sendgrid.event('bounce', xMessageId),
        sendgrid.event('bounce', xMessageId, { type: 'blocked', reason: '550 blocked by policy' }),
        sendgrid.event('delivered', xMessageId, { event: 'machine_opened_maybe' }),
      ];
      const res = await post(t, sg.path, sendgrid.signedEvents(events));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: 10, duplicates: 0 });

      const rows = await storedRows(t, sg.configId);
      expect(rows.map((r) => [r.raw && (r.raw as any).event, r.outcome])).toEqual([
        ['delivered', 'DELIVERED'],
        ['deferred', 'BOUNCED_SOFT'],
        ['open', 'OPENED'],
        ['click', 'CLICKED'],
        ['dropped', 'FAILED'],
        ['spamreport', 'SPAM_COMPLAINT'],
        ['unsubscribe', 'UNSUBSCRIBED'],
        ['group_unsubscribe', 'UNSUBSCRIBED'],
        ['bounce', 'BOUNCED_HARD'],
        ['bounce', 'BOUNCED_SOFT'],
      ]);
      const bounce = rows[8];
      expect(bounce).toMatchObject({
        workspace_id: ws.workspaceId,
        provider_config_id: sg.configId,
        provider: 'sendgrid',
        channel: 'EMAIL',
        event_id: events[9].sg_event_id,
        external_id: xMessageId,
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        error_code: '5.1.1',
        applied_at: null,
        result: null,
      });
      expect(bounce.raw).toEqual(events[9]);
      expect(fromDbTime(bounce.happened_at).getTime()).toBe(events[9].timestamp * 1000);
      expect(rows[1].reason).toBe('421 4.7.0 Try again later'); // deferred: its `response`
      expect(rows[9].reason).toBe('550 blocked by policy');
    });

    it('a retried batch is stored once; duplicates within one batch too', async () => {
      const a = sendgrid.event('delivered', 'sg-msg-dup');
      const b = sendgrid.event('open', 'sg-msg-dup');
      const first = await post(t, sg.path, sendgrid.signedEvents([a, b, a]));
      expect(first.json()).toEqual({ received: 2, duplicates: 1 });
      const again = await post(t, sg.path, sendgrid.signedEvents([a, b]));
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ received: 0, duplicates: 2 });
      const c = sendgrid.event('click', 'sg-msg-dup');
      const mixed = await post(t, sg.path, sendgrid.signedEvents([b, c]));
      expect(mixed.json()).toEqual({ received: 1, duplicates: 1 });
      const rows = (await storedRows(t, sg.configId)).filter((r) => r.external_id === 'sg-msg-dup');
      expect(rows.map((r) => r.event_id)).toEqual([a.sg_event_id, b.sg_event_id, c.sg_event_id]);
    });

    it('concurrent requests with the same events store each once', async () => {
      const events = Array.from({ length: 5 }, () => sendgrid.event('delivered', 'sg-msg-race'));
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => post(t, sg.path, sendgrid.signedEvents(events))),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
      const received = answers.reduce((n, a) => n + a.json().received, 0);
      const duplicates = answers.reduce((n, a) => n + a.json().duplicates, 0);
      expect({ received, duplicates }).toEqual({ received: 5, duplicates: 25 });
      expect((await storedRows(t, sg.configId)).filter((r) => r.external_id === 'sg-msg-race')).toHaveLength(5);
    });

    describe('refused (401), nothing stored', () => {
      const refused = async (request: { body: string | Buffer; headers: Record<string, string> }, message: RegExp) => {
        const before = (await storedRows(t, sg.configId)).length;
        const res = await post(t, sg.path, request);
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({ message: expect.stringMatching(message), code: expect.any(String) });
        expect((await storedRows(t, sg.configId)).length).toBe(before);
        return res;
      };
      const batch = () => [sendgrid.event('delivered', 'sg-msg-refused'), sendgrid.event('open', 'sg-msg-refused')];

      it('a signature made with another key (forged)', async () => {
        const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        await refused(sendgrid.signedEvents(batch(), { key: other.privateKey }), /does not match/);
      });

      it('one byte of the body altered after signing', async () => {
        const signed = sendgrid.signedEvents(batch());
        const bytes = Buffer.from(signed.body);
        bytes[bytes.indexOf('delivered')] = 'D'.charCodeAt(0);
        await refused({ ...signed, body: bytes }, /does not match/);
        // the timestamp is signed too
        await refused(
          {
            ...signed,
            headers: {
              ...signed.headers,
              'x-twilio-email-event-webhook-timestamp': String(
                Number(signed.headers['x-twilio-email-event-webhook-timestamp']) + 1,
              ),
            },
          },
          /does not match/,
        );
      });

      it('a missing signature or timestamp header, or a signature that is not one', async () => {
        const signed = sendgrid.signedEvents(batch());
        const without = (name: string) => {
          const headers = { ...signed.headers };
          delete headers[name];
          return { ...signed, headers };
        };
        const missing = await refused(without('x-twilio-email-event-webhook-signature'), /Signature header is missing/);
        expect(missing.json().code).toBe('INVALID_SIGNATURE');
        await refused(without('x-twilio-email-event-webhook-timestamp'), /Timestamp header is missing/);
        await refused(
          {
            ...signed,
            headers: { ...signed.headers, 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' },
          },
          /does not match/,
        );
      });

      it('a timestamp 6 minutes off, correctly signed', async () => {
        const now = Math.floor(Date.now() / 1000);
        const late = await refused(sendgrid.signedEvents(batch(), { timestamp: now - 360 }), /5 minutes/);
        expect(late.json().code).toBe('STALE_CALLBACK');
        await refused(sendgrid.signedEvents(batch(), { timestamp: now + 360 }), /5 minutes/);
        // within the window: accepted
        const ok = await post(t, sg.path, sendgrid.signedEvents(batch(), { timestamp: now - 240 }));
        expect(ok.statusCode).toBe(200);
      });

      it('the configured key is another account’s, or no key at all', async () => {
        const otherFake = await SendGridFake.start();
        try {
          const wrongKey = await hookFor(t, ws, {
            channel: 'EMAIL',
            provider: 'sendgrid',
            config: {
              apiKey: 'SG.k',
              fromEmail: 'shop@example.com',
              webhookVerificationKey: otherFake.verificationKey,
            },
          });
          let res = await post(t, wrongKey.path, sendgrid.signedEvents(batch()));
          expect(res.statusCode).toBe(401);
          const noKey = await hookFor(t, ws, {
            channel: 'EMAIL',
            provider: 'sendgrid',
            config: { apiKey: 'SG.k', fromEmail: 'shop@example.com' },
          });
          res = await post(t, noKey.path, sendgrid.signedEvents(batch()));
          expect(res.statusCode).toBe(401);
          expect(res.json().message).toMatch(/no webhookVerificationKey/);
          const badKey = await hookFor(t, ws, {
            channel: 'EMAIL',
            provider: 'sendgrid',
            config: { apiKey: 'SG.k', fromEmail: 'shop@example.com', webhookVerificationKey: 'not a key' },
          });
          res = await post(t, badKey.path, sendgrid.signedEvents(batch()));
          expect(res.statusCode).toBe(401);
          expect(res.json().message).toMatch(/not the verification key/);
          for (const h of [wrongKey, noKey, badKey]) expect(await storedRows(t, h.configId)).toEqual([]);
        } finally {
          await otherFake.close();
        }
      });
    });

    it('a signed body that is not an array of events is 400, nothing stored', async () => {
      const before = (await storedRows(t, sg.configId)).length;
      for (const body of ['{"event":"delivered"}', 'not json', '[1]', '[{"sg_event_id":"x"}]', '']) {
        const res = await post(t, sg.path, sendgrid.signedEvents(body));
        expect(res.statusCode).toBe(400);
        expect(res.json().code).toBe('MALFORMED_CALLBACK');
      }
      const noEventId = sendgrid.event('delivered', 'sg-msg-x');
      delete (noEventId as any).sg_event_id;
      const res = await post(t, sg.path, sendgrid.signedEvents([sendgrid.event('open', 'sg-msg-x'), noEventId]));
      expect(res.statusCode).toBe(400);
      expect((await storedRows(t, sg.configId)).length).toBe(before);
    });

    it('a mail sent through SendGrid and its events carry the same external id', async () => {
      // Mail Send answers X-Message-Id; the events name it followed by SendGrid's suffix
      const event = sendgrid.event('delivered', sendgrid.messageId(7));
      expect(event.sg_message_id.startsWith(`${sendgrid.messageId(7)}.`)).toBe(true);
      await post(t, sg.path, sendgrid.signedEvents([event]));
      const row = (await storedRows(t, sg.configId)).find((r) => r.event_id === event.sg_event_id)!;
      expect(row.external_id).toBe('sg-msg-7');
    });
  });

  describe('Twilio status callbacks', () => {
    const sid = () => `SM${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;
    const publicUrlOf = (hook: Hook) => `${PUBLIC_URL}${hook.path}`;

    it('stores delivered, undelivered (hard or soft by error code), failed and WhatsApp read; skips the rest', async () => {
      const a = sid();
      const b = sid();
      const c = sid();
      const d = sid();
      const e = sid();
      const answers = [];
      for (const [hook, s, status, errorCode] of [
        [sms, a, 'queued', undefined],
        [sms, a, 'sent', undefined],
        [sms, a, 'delivered', undefined],
        [sms, b, 'undelivered', '30003'],
        [sms, c, 'undelivered', '30008'],
        [sms, d, 'failed', '21610'],
        [whatsapp, e, 'read', undefined],
      ] as const) {
        const res = await post(t, hook.path, twilio.statusCallback(publicUrlOf(hook), s, status, { errorCode }));
        expect(res.statusCode).toBe(200);
        answers.push(res.json());
      }
      expect(answers.slice(0, 3)).toEqual([
        { received: 0, duplicates: 0 },
        { received: 0, duplicates: 0 },
        { received: 1, duplicates: 0 },
      ]);
      const rows = await storedRows(t, sms.configId);
      expect(rows.map((r) => [r.event_id, r.external_id, r.outcome, r.error_code, r.channel])).toEqual([
        [`${a}:delivered`, a, 'DELIVERED', null, 'SMS'],
        [`${b}:undelivered`, b, 'BOUNCED_HARD', '30003', 'SMS'],
        [`${c}:undelivered`, c, 'BOUNCED_SOFT', '30008', 'SMS'],
        [`${d}:failed`, d, 'FAILED', '21610', 'SMS'],
      ]);
      expect(rows[0].raw).toMatchObject({ MessageSid: a, MessageStatus: 'delivered', AccountSid: twilio.accountSid });
      expect(rows[0].applied_at).toBeNull();
      const wa = await storedRows(t, whatsapp.configId);
      expect(wa.map((r) => [r.event_id, r.outcome, r.channel])).toEqual([[`${e}:read`, 'OPENED', 'WHATSAPP']]);
    });

    it('a repeated callback is a duplicate', async () => {
      const s = sid();
      const first = await post(t, sms.path, twilio.statusCallback(publicUrlOf(sms), s, 'delivered'));
      const again = await post(t, sms.path, twilio.statusCallback(publicUrlOf(sms), s, 'delivered'));
      expect([first.json(), again.json()]).toEqual([
        { received: 1, duplicates: 0 },
        { received: 0, duplicates: 1 },
      ]);
    });

    it('is verified against PIGEON_PUBLIC_URL: the Host header does not matter; another URL is refused', async () => {
      const s = sid();
      const signed = twilio.statusCallback(publicUrlOf(sms), s, 'delivered');
      const spoofed = await post(t, sms.path, { ...signed, headers: { ...signed.headers, host: 'evil.example' } });
      expect(spoofed.statusCode).toBe(200);

      const before = (await storedRows(t, sms.configId)).length;
      for (const url of [
        `http://localhost:80${sms.path}`, // what the Host header of the request says
        `http://evil.example${sms.path}`,
        `${PUBLIC_URL}${sms.path}?x=1`,
        `${PUBLIC_URL}${whatsapp.path}`,
      ]) {
        const wrong = twilio.statusCallback(url, sid(), 'delivered');
        const res = await post(t, sms.path, { ...wrong, headers: { ...wrong.headers, host: new URL(url).host } });
        expect(res.statusCode).toBe(401);
        expect(res.json().message).toMatch(/X-Twilio-Signature does not match/);
      }
      expect((await storedRows(t, sms.configId)).length).toBe(before);
    });

    it('signs the query string too', async () => {
      const s = sid();
      const signed = twilio.statusCallback(`${publicUrlOf(sms)}?attempt=2`, s, 'delivered');
      expect((await post(t, `${sms.path}?attempt=2`, signed)).statusCode).toBe(200);
      expect((await post(t, `${sms.path}?attempt=3`, signed)).statusCode).toBe(401);
    });

    it('forged, altered, unsigned or signed with another token: 401, nothing stored', async () => {
      const before = (await storedRows(t, sms.configId)).length;
      const signed = twilio.statusCallback(publicUrlOf(sms), sid(), 'delivered');
      const cases = [
        twilio.statusCallback(publicUrlOf(sms), sid(), 'delivered', { authToken: 'another-token' }),
        { ...signed, body: signed.body.replace('MessageStatus=delivered', 'MessageStatus=failed') },
        { ...signed, body: `${signed.body}&ErrorCode=30003` },
        { ...signed, headers: { ...signed.headers, 'x-twilio-signature': '' } },
        { ...signed, headers: { ...signed.headers, 'x-twilio-signature': 'AAAA' } },
      ];
      const { ['x-twilio-signature']: _, ...unsigned } = signed.headers;
      cases.push({ ...signed, headers: unsigned });
      for (const c of cases) {
        const res = await post(t, sms.path, c);
        expect(res.statusCode).toBe(401);
      }
      expect((await storedRows(t, sms.configId)).length).toBe(before);
    });

    it('a signed callback without MessageSid or status, or not a form, is 400', async () => {
      const signed = twilio.statusCallback(publicUrlOf(sms), '', 'delivered');
      expect((await post(t, sms.path, signed)).statusCode).toBe(400);
      const json = twilio.statusCallback(publicUrlOf(sms), sid(), 'delivered');
      const res = await post(t, sms.path, {
        ...json,
        headers: { ...json.headers, 'content-type': 'application/json' },
      });
      // as JSON, the form parameters are not part of the signature: the signature no longer matches
      expect(res.statusCode).toBe(401);
    });
  });

  describe('webhook receiver reports', () => {
    it('stores DELIVERED and FAILED reports (one object, or an array) by eventId', async () => {
      const one = receiver.report('delivery-1');
      let res = await post(t, webhook.path, receiver.signed(one));
      expect(res.json()).toEqual({ received: 1, duplicates: 0 });
      const failed = receiver.report('delivery-2', 'FAILED', { reason: 'mailbox full' });
      const delivered = receiver.report('delivery-3');
      res = await post(t, webhook.path, receiver.signed([failed, delivered, failed]));
      expect(res.json()).toEqual({ received: 2, duplicates: 1 });
      res = await post(t, webhook.path, receiver.signed(one));
      expect(res.json()).toEqual({ received: 0, duplicates: 1 });
      const rows = await storedRows(t, webhook.configId);
      expect(rows.map((r) => [r.event_id, r.external_id, r.outcome, r.reason, r.channel])).toEqual([
        [one.eventId, 'delivery-1', 'DELIVERED', null, 'WEBHOOK'],
        [failed.eventId, 'delivery-2', 'FAILED', 'mailbox full', 'WEBHOOK'],
        [delivered.eventId, 'delivery-3', 'DELIVERED', null, 'WEBHOOK'],
      ]);
      expect(fromDbTime(rows[0].happened_at).toISOString()).toBe(one.timestamp);
      expect(rows[1].raw).toEqual(failed);
    });

    it('wrong secret, altered body, no signature, 6 minutes off: 401, nothing stored', async () => {
      const before = (await storedRows(t, webhook.configId)).length;
      const report = receiver.report('delivery-x');
      const signed = receiver.signed(report);
      const cases = [
        receiver.signed(report, 'another-secret'),
        { ...signed, body: signed.body.replace('DELIVERED', 'FAILED') },
        { ...signed, headers: { 'content-type': 'application/json' } },
        { ...signed, headers: { ...signed.headers, 'x-pigeon-signature': 'sha256=00' } },
        receiver.signed(
          receiver.report('delivery-x', 'DELIVERED', { timestamp: new Date(Date.now() - 360_000).toISOString() }),
        ),
        receiver.signed(
          receiver.report('delivery-x', 'DELIVERED', { timestamp: new Date(Date.now() + 360_000).toISOString() }),
        ),
      ];
      for (const c of cases) {
        const res = await post(t, webhook.path, c);
        expect(res.statusCode).toBe(401);
      }
      expect((await storedRows(t, webhook.configId)).length).toBe(before);
    });

    it('a configuration without a secret refuses every report', async () => {
      const open = await hookFor(t, ws, {
        channel: 'WEBHOOK',
        provider: 'webhook',
        config: { url: 'https://receiver.example.com/open' },
      });
      const res = await post(t, open.path, receiver.signed(receiver.report('d')));
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toMatch(/no secret/);
      expect(await storedRows(t, open.configId)).toEqual([]);
    });

    it('signed reports that cannot be read are 400, nothing stored', async () => {
      const before = (await storedRows(t, webhook.configId)).length;
      const good = receiver.report('d-1');
      for (const body of [
        'nope',
        '[]',
        '[1]',
        JSON.stringify({ ...good, status: 'OPENED' }),
        JSON.stringify({ ...good, eventId: '' }),
        JSON.stringify({ ...good, eventId: 'x'.repeat(256) }),
        JSON.stringify({ ...good, messageId: 7 }),
        JSON.stringify({ ...good, timestamp: 'yesterday' }),
        JSON.stringify({ ...good, reason: { a: 1 } }),
        JSON.stringify([good, { ...good, eventId: 'e2', status: 'LOST' }]),
      ]) {
        const res = await post(t, webhook.path, receiver.signed(body));
        expect({ body, status: res.statusCode }).toEqual({ body, status: 400 });
      }
      expect((await storedRows(t, webhook.configId)).length).toBe(before);
    });
  });

  describe('the route', () => {
    it('an unknown id, a disabled configuration or a plugin without callbacks: 404', async () => {
      const slack = await t.services.providerConfigs.configure(
        { workspaceId: ws.workspaceId },
        { channel: 'SLACK' as any, provider: 'slack', config: { botToken: 'xoxb-2' } },
      );
      const disabled = await hookFor(t, ws, {
        channel: 'WEBHOOK',
        provider: 'webhook',
        config: { url: 'https://receiver.example.com/off', secret: 's' },
        enabled: false,
      });
      const paths = [
        '/hooks/AAAAAAAAAAAAAAAAAAAAAAAA',
        `/hooks/${'x'.repeat(60)}`,
        `/hooks/${slack.callbackId}`,
        disabled.path,
        `${webhook.path.toLowerCase()}`,
      ];
      for (const path of paths) {
        const res = await post(t, path, receiver.signed(receiver.report('d')));
        expect({ path, status: res.statusCode }).toEqual({ path, status: 404 });
        expect(res.json().code).toBe('NOT_FOUND');
      }
      expect(await storedRows(t, disabled.configId)).toEqual([]);
      // an id longer than a route parameter may be (100 characters) is refused by the router
      const long = await post(t, `/hooks/${'x'.repeat(200)}`, receiver.signed(receiver.report('d')));
      expect(long.statusCode).toBe(414);
    });

    it('a body up to 1 MB is read (more than other routes take); over 1 MB is 413', async () => {
      const big = receiver.report('delivery-big', 'FAILED', { reason: 'r'.repeat(700 * 1024) });
      const accepted = await post(t, webhook.path, receiver.signed(big));
      expect(accepted.statusCode).toBe(200);
      const row = (await storedRows(t, webhook.configId)).find((r) => r.event_id === big.eventId)!;
      expect(row.reason).toHaveLength(1000);
      expect((row.raw as any).reason).toHaveLength(700 * 1024);
      const res = await post(t, webhook.path, receiver.signed(`"${'x'.repeat(1024 * 1024 + 10)}"`));
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('takes any content type, and none', async () => {
      const report = receiver.report('delivery-ct');
      const signed = receiver.signed(report);
      const res = await post(t, webhook.path, {
        ...signed,
        headers: { ...signed.headers, 'content-type': 'text/plain' },
      });
      expect(res.statusCode).toBe(200);
      const { ['content-type']: _, ...noType } = signed.headers;
      const again = await post(t, webhook.path, receiver.signed(receiver.report('delivery-ct2')));
      expect(again.statusCode).toBe(200);
      const none = receiver.signed(receiver.report('delivery-ct3'));
      const res3 = await post(t, webhook.path, {
        ...none,
        headers: { 'x-pigeon-signature': none.headers['x-pigeon-signature'] },
      });
      expect(res3.statusCode).toBe(200);
      expect(noType).toBeDefined();
    });

    it('the store failing is 503 (the provider retries), nothing stored', async () => {
      const before = (await storedRows(t, webhook.configId)).length;
      const spy = jest
        .spyOn(t.db, 'transaction')
        .mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      try {
        const res = await post(t, webhook.path, receiver.signed(receiver.report('delivery-503')));
        expect(res.statusCode).toBe(503);
        expect(res.json().code).toBe('STORE_UNAVAILABLE');
      } finally {
        spy.mockRestore();
      }
      expect((await storedRows(t, webhook.configId)).length).toBe(before);
    });

    it('counts pigeon_callbacks_total by provider and outcome', async () => {
      const text = await (await t.inject({ method: 'GET', url: '/metrics' })).body;
      for (const line of [
        'pigeon_callbacks_total{provider="sendgrid",outcome="stored"}',
        'pigeon_callbacks_total{provider="sendgrid",outcome="duplicate"}',
        'pigeon_callbacks_total{provider="sendgrid",outcome="rejected_signature"}',
        'pigeon_callbacks_total{provider="sendgrid",outcome="rejected_timestamp"}',
        'pigeon_callbacks_total{provider="sendgrid",outcome="malformed"}',
        'pigeon_callbacks_total{provider="twilio",outcome="stored"}',
        'pigeon_callbacks_total{provider="webhook",outcome="stored"}',
        'pigeon_callbacks_total{provider="unknown",outcome="unknown_hook"}',
      ]) {
        expect(text).toContain(line);
      }
    });
  });
});

describe('provider callbacks: intake without PIGEON_PUBLIC_URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('shows no callback URL and answers 503 saying PIGEON_PUBLIC_URL must be set', async () => {
    const res = await t.gql(
      `mutation { configureProvider(input: { channel: WEBHOOK, provider: "webhook", config: { url: "https://r.example.com", secret: "s" } }) { id callbackUrl } }`,
    );
    expect(res.data!.configureProvider.callbackUrl).toBeNull();
    const [row] = await t.db.rows<{ callback_id: string }>('SELECT callback_id FROM provider_configs WHERE id = ?', [
      res.data!.configureProvider.id,
    ]);
    expect(row.callback_id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const receiver = new WebhookReceiverFake('s');
    const answer = await post(t, `/hooks/${row.callback_id}`, receiver.signed(receiver.report('d')));
    expect(answer.statusCode).toBe(503);
    expect(answer.json()).toEqual({
      message: expect.stringContaining('PIGEON_PUBLIC_URL'),
      code: 'CALLBACKS_DISABLED',
    });
  });
});
