import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import {
  normalisePhone,
  twilioProvider,
  type TwilioSettings,
} from '../../../src/plugins/providers/twilio/twilio.provider';
import { refusedUrl } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { failure, sendThrough } from '../../helpers/provider-send';
import { twilioError, TwilioFake } from '../../helpers/fakes/twilio-fake';

let fake: TwilioFake;
let settings: TwilioSettings;

beforeEach(async () => {
  fake = await TwilioFake.start();
  settings = { accountSid: fake.accountSid, authToken: fake.authToken, from: '+14155550100', baseUrl: fake.url };
});
afterEach(() => fake.close());

function sms(address: unknown, overrides: Partial<TwilioSettings> = {}) {
  return sendThrough(
    twilioProvider,
    sendContext({
      channel: Channel.SMS,
      settings: { ...settings, ...overrides },
      address,
      content: { body: 'Your code is 1234' },
    }),
  );
}

function whatsapp(address: unknown, overrides: Partial<TwilioSettings> = {}) {
  return sendThrough(
    twilioProvider,
    sendContext({
      channel: Channel.WHATSAPP,
      settings: { ...settings, ...overrides },
      address,
      content: { body: 'Hi on WhatsApp' },
    }),
  );
}

describe('twilio provider', () => {
  it('declares its channels and a described settings schema with the auth token secret', () => {
    expect(twilioProvider.slug).toBe('twilio');
    expect(twilioProvider.channels).toEqual([Channel.SMS, Channel.WHATSAPP]);
    for (const prop of Object.values(twilioProvider.settings.properties)) expect(prop.description).toBeTruthy();
    expect(twilioProvider.settings.properties.authToken.secret).toBe(true);
  });

  it('sends an SMS as a form with Basic auth and returns the message SID', async () => {
    const result = await sms('+1 (415) 555-0199');
    expect(result.externalId).toMatch(/^SM[0-9a-f]{32}$/);
    const req = fake.http.requests[0];
    expect(req.method).toBe('POST');
    expect(req.pathname).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`,
    );
    expect(fake.accepted).toEqual([{ To: '+14155550199', From: '+14155550100', Body: 'Your code is 1234' }]);
  });

  it('normalises the fixture number +1-123-555-7890', async () => {
    await sms('+1-123-555-7890');
    expect(fake.accepted[0].To).toBe('+11235557890');
  });

  it('uses MessagingServiceSid instead of From when configured', async () => {
    await sms('+14155550199', { messagingServiceSid: 'MG00000000000000000000000000000001' });
    expect(fake.accepted[0]).toEqual({
      To: '+14155550199',
      MessagingServiceSid: 'MG00000000000000000000000000000001',
      Body: 'Your code is 1234',
    });
  });

  it('prefixes To and From with whatsapp: for WhatsApp, falling back to from', async () => {
    const result = await whatsapp('+44 7700 900123');
    expect(result.externalId).toMatch(/^SM/);
    expect(fake.accepted[0]).toMatchObject({ To: 'whatsapp:+447700900123', From: 'whatsapp:+14155550100' });
  });

  it('does not double an existing whatsapp: prefix and prefers whatsappFrom', async () => {
    await whatsapp('whatsapp:+447700900123', { whatsappFrom: 'whatsapp:+14155550111' });
    expect(fake.accepted[0]).toMatchObject({ To: 'whatsapp:+447700900123', From: 'whatsapp:+14155550111' });
  });

  it('rejects an address that is not a phone number as permanent, without calling Twilio', async () => {
    const err = await failure(whatsapp('wa-example'));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(/not a phone number/);
    expect(await failure(sms({ number: '+14155550199' }))).toBeInstanceOf(PermanentProviderError);
    expect(fake.http.requests).toHaveLength(0);
  });

  it('fails permanently on missing settings', async () => {
    const err = await failure(sms('+14155550199', { authToken: '' }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.message).toMatch(/authToken/);
    const noSender = await failure(sms('+14155550199', { from: undefined }));
    expect(noSender).toBeInstanceOf(PermanentProviderError);
    expect(noSender.message).toMatch(/from/);
  });

  it('maps a 4xx to a permanent error carrying Twilio code and message', async () => {
    const err = await failure(sms('+14155550199', { authToken: 'wrong' }));
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.status).toBe(401);
    expect(err.message).toContain('error 20003: Authenticate');

    fake.http.respondOnce(twilioError(400, 21211, "The 'To' number +14155550199 is not a valid phone number."));
    const invalid = await failure(sms('+14155550199'));
    expect(invalid).toBeInstanceOf(PermanentProviderError);
    expect(invalid.message).toContain('error 21211');
    expect(invalid.message).toContain('is not a valid phone number');
  });

  it('maps 429 with Retry-After to a retryable error with retryAfterMs', async () => {
    fake.http.respondOnce({ ...twilioError(429, 20429, 'Too Many Requests'), headers: { 'retry-after': '7' } });
    const err = await failure(sms('+14155550199'));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.status).toBe(429);
    expect((err as RetryableProviderError).retryAfterMs).toBe(7000);
    expect(err.message).toContain('error 20429: Too Many Requests');
  });

  it('maps 5xx to retryable', async () => {
    fake.http.respondOnce({ status: 503, body: 'Service Unavailable' });
    const err = await failure(sms('+14155550199'));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.status).toBe(503);
  });

  it('maps a timeout to retryable', async () => {
    fake.http.respondOnce({ hang: true });
    const err = await failure(sms('+14155550199', { timeoutMs: 100 }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.message).toMatch(/no answer within 100 ms/);
  });

  it('maps a refused connection to retryable', async () => {
    const err = await failure(sms('+14155550199', { baseUrl: await refusedUrl() }));
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.message).toMatch(/connection failed/);
  });
});

describe('normalisePhone', () => {
  it.each([
    ['+1 (415) 555-0100', '+14155550100'],
    ['+44 7700.900.123', '+447700900123'],
    ['whatsapp:+14155550100', '+14155550100'],
    [4155550100, '4155550100'],
    ['xoxb-000-example', null],
    ['+1 415 CALL-NOW', null],
    ['123', null],
    [null, null],
  ])('%p → %p', (input, expected) => {
    expect(normalisePhone(input)).toBe(expected);
  });
});
