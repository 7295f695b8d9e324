import { generateKeyPairSync, sign } from 'node:crypto';
import { CallbackRejectedError, type CallbackRequest } from '../../src/domain/provider/provider-callback';
import { sendgridCallbacks } from '../../src/plugins/providers/sendgrid/sendgrid.callbacks';
import { TWILIO_PERMANENT_ERROR_CODES, twilioCallbacks } from '../../src/plugins/providers/twilio/twilio.callbacks';
import { webhookCallbacks } from '../../src/plugins/providers/webhook/webhook.callbacks';
import { signWebhookBody } from '../../src/plugins/providers/webhook/webhook.provider';

/** The plugins' callback sides on their own: documented test vectors and the edges of each format. */
const request = (
  body: string,
  headers: Record<string, string>,
  url = 'https://p.example/hooks/x',
): CallbackRequest => ({
  rawBody: Buffer.from(body),
  headers,
  url,
  now: new Date(),
});

const rejection = (fn: () => unknown): CallbackRejectedError['reason'] | 'none' => {
  try {
    fn();
    return 'none';
  } catch (err) {
    if (err instanceof CallbackRejectedError) return err.reason;
    throw err;
  }
};

describe('twilio callbacks', () => {
  // Twilio's own example (https://www.twilio.com/docs/usage/security#validating-requests, api-snippets)
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = (caller: string) =>
    new URLSearchParams({
      CallSid: 'CA1234567890ABCDE',
      Caller: caller,
      Digits: '1234',
      From: caller,
      To: '+18005551212',
    });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it.each([
    ['+14158675310', 'GvWf1cFY/Q7PnoempGyD5oXAezc='],
    ['+14158675309', 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
  ])('verifies Twilio’s documented example (Caller %s)', (caller, signature) => {
    const req = request(params(caller).toString(), { ...form, 'x-twilio-signature': signature }, url);
    expect(rejection(() => twilioCallbacks.verify(req, { authToken: '12345' }))).toBe('none');
    expect(rejection(() => twilioCallbacks.verify(req, { authToken: '12346' }))).toBe('signature');
    expect(
      rejection(() => twilioCallbacks.verify({ ...req, url: url.replace('foo=1', 'foo=2') }, { authToken: '12345' })),
    ).toBe('signature');
  });

  it('parameter order in the body does not matter; a configuration without authToken refuses', () => {
    const body = 'To=%2B18005551212&Digits=1234&From=%2B14158675310&Caller=%2B14158675310&CallSid=CA1234567890ABCDE';
    const req = request(body, { ...form, 'x-twilio-signature': 'GvWf1cFY/Q7PnoempGyD5oXAezc=' }, url);
    expect(rejection(() => twilioCallbacks.verify(req, { authToken: '12345' }))).toBe('none');
    expect(rejection(() => twilioCallbacks.verify(req, {}))).toBe('signature');
  });

  it('maps statuses; the permanent error codes are documented', () => {
    const parse = (fields: Record<string, string>) =>
      twilioCallbacks.parse(request(new URLSearchParams(fields).toString(), form), {});
    expect(parse({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '21614' })[0]).toMatchObject({
      eventId: 'SM1:undelivered',
      externalId: 'SM1',
      outcome: 'BOUNCED_HARD',
      errorCode: '21614',
      reason: 'Twilio error 21614',
    });
    expect(parse({ MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: '21610' })[0].outcome).toBe('FAILED');
    expect(parse({ MessageSid: 'SM1', MessageStatus: 'accepted' })).toEqual([]);
    // older callbacks name them SmsSid / SmsStatus only
    expect(parse({ SmsSid: 'SM2', SmsStatus: 'delivered' })[0]).toMatchObject({ eventId: 'SM2:delivered' });
    expect(TWILIO_PERMANENT_ERROR_CODES).toEqual(['30003', '30005', '30006', '21610', '21211', '21614']);
  });
});

describe('sendgrid callbacks', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKey = keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const signed = (body: string, timestamp = String(Math.floor(Date.now() / 1000))) =>
    request(body, {
      'x-twilio-email-event-webhook-timestamp': timestamp,
      'x-twilio-email-event-webhook-signature': sign('sha256', Buffer.from(timestamp + body), keys.privateKey).toString(
        'base64',
      ),
    });

  it('verifies over timestamp + raw body with the configured key, also given as PEM', () => {
    const req = signed('[]');
    expect(rejection(() => sendgridCallbacks.verify(req, { webhookVerificationKey: publicKey }))).toBe('none');
    const pem = keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(rejection(() => sendgridCallbacks.verify(req, { webhookVerificationKey: pem }))).toBe('none');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' });
    expect(rejection(() => sendgridCallbacks.verify(req, { webhookVerificationKey: rsa.toString('base64') }))).toBe(
      'signature',
    );
  });

  it('externalId is sg_message_id up to its first dot; a bounce without type is hard', () => {
    const [event] = sendgridCallbacks.parse(
      request(
        JSON.stringify([
          { event: 'bounce', sg_event_id: 'e1', sg_message_id: 'abc.filter0001.16648.5515E0B88.0', timestamp: 1 },
        ]),
        {},
      ),
      {},
    );
    expect(event).toMatchObject({ eventId: 'e1', externalId: 'abc', outcome: 'BOUNCED_HARD', at: new Date(1000) });
  });
});

describe('webhook callbacks', () => {
  it('signature over the raw body; timestamp within 5 minutes', () => {
    const body = JSON.stringify({
      eventId: 'e',
      messageId: 'm',
      status: 'DELIVERED',
      timestamp: new Date().toISOString(),
    });
    const req = request(body, { 'x-pigeon-signature': signWebhookBody('s', body) });
    expect(rejection(() => webhookCallbacks.verify(req, { secret: 's' }))).toBe('none');
    expect(rejection(() => webhookCallbacks.verify(req, { secret: 't' }))).toBe('signature');
    expect(rejection(() => webhookCallbacks.verify(req, {}))).toBe('signature');
    const old = JSON.stringify({ eventId: 'e', messageId: 'm', status: 'FAILED', timestamp: '2020-01-01T00:00:00Z' });
    const stale = request(old, { 'x-pigeon-signature': signWebhookBody('s', old) });
    expect(rejection(() => webhookCallbacks.verify(stale, { secret: 's' }))).toBe('timestamp');
  });
});
