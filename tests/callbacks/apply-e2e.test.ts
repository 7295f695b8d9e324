import { SendGridFake } from '../helpers/fakes/sendgrid-fake';
import { TwilioFake } from '../helpers/fakes/twilio-fake';
import { createTemplate, identify, send } from '../helpers/pipeline';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';
import { historyOf, suppressionOf, tracked } from './apply-helpers';
import { hookFor, post, PUBLIC_URL, type Hook } from './intake-helpers';

/**
 * From a provider's signed callback over HTTP to the message: a SendGrid hard bounce fails a SINGLE message over
 * to SMS, and Twilio's "delivered" status callback for that SMS makes it DELIVERED.
 */
describe('provider callbacks end to end: intake → worker → message', () => {
  let t: TestApp;
  let sendgrid: SendGridFake;
  let twilio: TwilioFake;
  let sg: Hook;
  let sms: Hook;
  let templateId: string;

  beforeAll(async () => {
    t = await startTestApp({ publicUrl: PUBLIC_URL });
    sendgrid = await SendGridFake.start();
    twilio = await TwilioFake.start();
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
    templateId = await createTemplate(t, {
      key: `e2e-apply-${uid()}`,
      name: 'Receipt',
      channels: ['EMAIL', 'SMS'],
      content: { email: { subject: 'Receipt', text: 'Your receipt' }, sms: { body: 'Your receipt' } },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([sendgrid.close(), twilio.close()]);
  });

  it('a signed SendGrid bounce fails over to SMS; the signed Twilio "delivered" makes the message DELIVERED', async () => {
    const userId = uid();
    await identify(t, userId, { email: `${userId}@example.com`, phone_number: '+15555550177' });
    const created = await send(t, { userId, templateId });
    await t.worker().drain(150);
    let m = await tracked(t, created.id, t.ws.adminKey);
    expect(m).toMatchObject({ status: 'SENT', channel: 'EMAIL' });
    const xMessageId = m.deliveries[0].externalId;

    const bounce = sendgrid.signedEvents([
      sendgrid.event('delivered', xMessageId, { timestamp: Math.floor(Date.now() / 1000) - 5 }),
      sendgrid.event('bounce', xMessageId, { email: `${userId}@example.com` }),
    ]);
    expect((await post(t, sg.path, bounce)).statusCode).toBe(200);
    await t.worker().drain(200);

    m = await tracked(t, created.id, t.ws.adminKey);
    // delivered happened first (its timestamp), then the bounce: forward-only keeps DELIVERED, nothing fails over
    // — so this mail is a late bounce; a bounce alone is the next message's case
    expect(m.deliveries[0].status).toBe('DELIVERED');
    expect(await suppressionOf(t, t.ws, 'EMAIL', `${userId}@example.com`)).toMatchObject({ reason: 'HARD_BOUNCE' });

    const other = uid();
    await identify(t, other, { email: `${other}@example.com`, phone_number: '+15555550178' });
    const second = await send(t, { userId: other, templateId });
    await t.worker().drain(150);
    m = await tracked(t, second.id, t.ws.adminKey);
    const secondId = m.deliveries[0].externalId;
    expect((await post(t, sg.path, sendgrid.signedEvents([sendgrid.event('bounce', secondId)]))).statusCode).toBe(200);
    await t.worker().drain(200);

    m = await tracked(t, second.id, t.ws.adminKey);
    expect(m).toMatchObject({ status: 'SENT', channel: 'SMS' });
    expect(historyOf(m, 'FAILOVER_AFTER_BOUNCE')).toEqual([
      { channel: 'EMAIL', next: 'SMS', reason: expect.stringContaining('550') },
    ]);
    const smsDelivery = m.deliveries.find((d: any) => d.channel === 'SMS');
    expect(twilio.bySid.get(smsDelivery.externalId)?.StatusCallback).toBe(sms.callbackUrl);

    const status = twilio.statusCallback(sms.callbackUrl, smsDelivery.externalId, 'delivered');
    expect((await post(t, sms.path, status)).statusCode).toBe(200);
    await t.worker().drain(150);
    m = await tracked(t, second.id, t.ws.adminKey);
    expect(m).toMatchObject({ status: 'DELIVERED', channel: 'SMS' });
    expect(m.deliveries.map((d: any) => [d.channel, d.status])).toEqual([
      ['EMAIL', 'BOUNCED'],
      ['SMS', 'DELIVERED'],
    ]);
    expect(historyOf(m, 'DELIVERED')).toEqual([{ channel: 'SMS' }]);
  });
});
