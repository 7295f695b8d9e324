import type { AddressInfo } from 'node:net';
import { HttpFake } from '../helpers/fakes/http-fake';
import { SendGridFake } from '../helpers/fakes/sendgrid-fake';
import { TwilioFake } from '../helpers/fakes/twilio-fake';
import { WebhookReceiverFake } from '../helpers/fakes/webhook-receiver';
import { createTemplate, identify, send } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';
import { hookFor, PUBLIC_URL, storedRows, type Hook } from './intake-helpers';

/**
 * Callbacks of real sends, over HTTP: what a provider's callback names is what its send stored as the
 * delivery's external id, and Twilio is told where to post (StatusCallback) with every message. Pigeon listens
 * on 127.0.0.1 and is known to providers as PIGEON_PUBLIC_URL (as behind a proxy): the fakes sign for the
 * public URL and post to the local address.
 */
describe('provider callbacks: intake of real sends', () => {
  let t: TestApp;
  let sendgrid: SendGridFake;
  let twilio: TwilioFake;
  let receiverHttp: HttpFake;
  const receiver = new WebhookReceiverFake('whsec_e2e');
  let local: string;
  let sg: Hook;
  let sms: Hook;
  let webhook: Hook;
  let templateId: string;

  beforeAll(async () => {
    t = await startTestApp({ publicUrl: PUBLIC_URL });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    local = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    sendgrid = await SendGridFake.start();
    twilio = await TwilioFake.start();
    receiverHttp = await HttpFake.start({ status: 204 });
    sg = await hookFor(t, t.ws, {
      channel: 'EMAIL',
      provider: 'sendgrid',
      config: {
        apiKey: 'SG.test-key',
        fromEmail: 'shop@example.com',
        baseUrl: sendgrid.url,
        webhookVerificationKey: sendgrid.verificationKey,
      },
    });
    sms = await hookFor(t, t.ws, {
      channel: 'SMS',
      provider: 'twilio',
      config: { accountSid: twilio.accountSid, authToken: twilio.authToken, from: '+14155550100', baseUrl: twilio.url },
    });
    webhook = await hookFor(t, t.ws, {
      channel: 'WEBHOOK',
      provider: 'webhook',
      config: { url: receiverHttp.url, secret: receiver.secret },
    });
    templateId = await createTemplate(t, {
      key: `e2e-${uid()}`,
      name: 'E2E',
      channels: ['EMAIL', 'SMS', 'WEBHOOK'],
      content: {
        email: { subject: 'Hi', text: 'Hi there' },
        sms: { body: 'Hi there' },
        webhook: { body: { hello: 'there' } },
      },
    });
    await t.gql(`mutation($i: RoutingRuleInput!) { createRoutingRule(input: $i) { id } }`, {
      i: {
        name: 'all',
        templateId,
        priority: 0,
        action: 'ROUTE',
        method: 'ALL',
        channels: ['EMAIL', 'SMS', 'WEBHOOK'],
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([sendgrid.close(), twilio.close(), receiverHttp.close()]);
  });

  /** `https://pigeon.example.test/hooks/…` → where this app listens. */
  const viaLocal = (hook: Hook) => `${local}${hook.path}`;

  it('each provider’s callback names the external id its send stored; Twilio got StatusCallback', async () => {
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, phone_number: '+15555550199' });
    const created = await send(t, { userId, templateId });
    await t.worker().drain(150);
    const deliveries = (await t.services.messages.deliveriesOf([created.id])).get(created.id) ?? [];
    const byChannel = Object.fromEntries(deliveries.map((d) => [d.channel, d]));
    expect(Object.keys(byChannel).sort()).toEqual(['EMAIL', 'SMS', 'WEBHOOK']);

    // Twilio: the send carried the configuration's callback URL, and Twilio posts there
    const sid = byChannel.SMS.externalId!;
    expect(twilio.bySid.get(sid)?.StatusCallback).toBe(sms.callbackUrl);
    const twilioAnswer = await twilio.postStatus(sid, 'delivered', { via: viaLocal(sms) });
    expect(twilioAnswer.status).toBe(200);
    expect(await twilioAnswer.json()).toEqual({ received: 1, duplicates: 0 });
    expect((await storedRows(t, sms.configId)).map((r) => [r.external_id, r.outcome])).toEqual([[sid, 'DELIVERED']]);

    // SendGrid: sg_message_id is X-Message-Id plus a suffix
    const xMessageId = byChannel.EMAIL.externalId!;
    expect(xMessageId).toBe(sendgrid.messageId(1));
    const sgAnswer = await sendgrid.postEvents(viaLocal(sg), [
      sendgrid.event('processed', xMessageId),
      sendgrid.event('delivered', xMessageId),
      sendgrid.event('open', xMessageId),
    ]);
    expect(sgAnswer.status).toBe(200);
    expect(await sgAnswer.json()).toEqual({ received: 2, duplicates: 0 });
    expect((await storedRows(t, sg.configId)).map((r) => [r.external_id, r.outcome])).toEqual([
      [xMessageId, 'DELIVERED'],
      [xMessageId, 'OPENED'],
    ]);

    // webhook: the receiver answered no id, so the external id is the delivery id (its Idempotency-Key header)
    const delivery = byChannel.WEBHOOK;
    expect(delivery.externalId).toBe(delivery.id);
    expect(receiverHttp.requests.at(-1)!.headers['idempotency-key']).toBe(delivery.id);
    const hookAnswer = await receiver.post(viaLocal(webhook), receiver.report(delivery.id));
    expect(hookAnswer.status).toBe(200);
    expect((await storedRows(t, webhook.configId)).map((r) => [r.external_id, r.outcome])).toEqual([
      [delivery.id, 'DELIVERED'],
    ]);
  });

  it('a webhook receiver may report the message id (X-Pigeon-Message-Id) as messageId: it names the delivery', async () => {
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, phone_number: '+15555550199' });
    const created = await send(t, { userId, templateId });
    await t.worker().drain(150);
    const posted = receiverHttp.requests.at(-1)!;
    expect(posted.headers['x-pigeon-message-id']).toBe(created.id);
    const answer = await receiver.post(viaLocal(webhook), receiver.report(created.id));
    expect(answer.status).toBe(200);
    await t.worker().drain(150);
    const deliveries = (await t.services.messages.deliveriesOf([created.id])).get(created.id) ?? [];
    const hooked = deliveries.find((d) => d.channel === 'WEBHOOK')!;
    expect(hooked.status).toBe('DELIVERED');
    expect(hooked.deliveredAt).toBeInstanceOf(Date);
    const [row] = await t.db.rows<{ result: string }>(
      'SELECT result FROM provider_callbacks WHERE provider_config_id = ? AND external_id = ?',
      [webhook.configId, created.id],
    );
    expect(row.result).toBe('APPLIED');
  });

  it('over HTTP, a forged Twilio callback is refused whatever Host it claims', async () => {
    const sid = [...twilio.bySid.keys()][0];
    const forged = twilio.statusCallback(sms.callbackUrl, sid, 'failed', { authToken: 'guess' });
    const res = await fetch(viaLocal(sms), {
      method: 'POST',
      headers: { ...forged.headers, host: 'pigeon.example.test' },
      body: forged.body,
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      message: expect.stringMatching(/X-Twilio-Signature/),
      code: 'INVALID_SIGNATURE',
    });
  });
});
