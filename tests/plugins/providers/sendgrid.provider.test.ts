import { Channel } from '../../../src/domain/channel/channel.enum';
import type { EmailContent } from '../../../src/domain/channel/channel-content';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { sendgridProvider, type SendGridSettings } from '../../../src/plugins/providers/sendgrid/sendgrid.provider';
import { refusedUrl } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { sendThrough } from '../../helpers/provider-send';
import { SendGridFake } from '../../helpers/fakes/sendgrid-fake';

const API_KEY = 'SG.fake-key-123';

describe('sendgrid provider', () => {
  let sendgrid: SendGridFake;
  let settings: SendGridSettings;

  beforeAll(async () => {
    sendgrid = await SendGridFake.start(API_KEY);
  });
  afterAll(() => sendgrid.close());
  beforeEach(() => {
    sendgrid.http.reset();
    sendgrid.accepted.length = 0;
    settings = {
      apiKey: API_KEY,
      fromEmail: 'shop@example.com',
      fromName: 'Pigeon Shop',
      baseUrl: sendgrid.url,
      timeoutMs: 2000,
    };
  });

  const ctxFor = (overrides: { settings?: SendGridSettings; address?: unknown; content?: EmailContent } = {}) =>
    sendContext<SendGridSettings>({
      channel: Channel.EMAIL,
      settings: overrides.settings ?? settings,
      address: 'address' in overrides ? overrides.address : 'ada@example.com',
      content: overrides.content ?? { subject: 'Order o-42', text: 'It shipped.', html: '<p>It shipped.</p>' },
      message: { id: 'msg-42', eventName: 'Segment-TrackEvent:Order Shipped', data: {} },
      idempotencyKey: 'delivery-9:1',
    });

  it('describes every setting and marks the API key secret', () => {
    for (const prop of Object.values(sendgridProvider.settings.properties)) {
      expect(prop.description.length).toBeGreaterThan(0);
    }
    expect(sendgridProvider.settings.properties.apiKey.secret).toBe(true);
  });

  it('POSTs /v3/mail/send with the documented shape and returns X-Message-Id', async () => {
    const result = await sendThrough(
      sendgridProvider,
      ctxFor({ settings: { ...settings, replyTo: 'help@example.com' } }),
    );

    expect(result).toEqual({ externalId: 'sg-msg-1' });
    expect(sendgrid.http.requests).toHaveLength(1);
    const req = sendgrid.http.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v3/mail/send');
    expect(req.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.json).toEqual({
      personalizations: [{ to: [{ email: 'ada@example.com' }] }],
      from: { email: 'shop@example.com', name: 'Pigeon Shop' },
      reply_to: { email: 'help@example.com' },
      subject: 'Order o-42',
      content: [
        { type: 'text/plain', value: 'It shipped.' },
        { type: 'text/html', value: '<p>It shipped.</p>' },
      ],
      custom_args: { pigeon_message_id: 'msg-42', pigeon_idempotency_key: 'delivery-9:1' },
    });
    expect(sendgrid.accepted).toHaveLength(1);
  });

  it('sends html only and omits an absent from name', async () => {
    const { fromName: _n, ...noName } = settings;
    await sendThrough(sendgridProvider, ctxFor({ settings: noName, content: { subject: 'S', html: '<b>x</b>' } }));
    const body = sendgrid.accepted[0];
    expect(body.content).toEqual([{ type: 'text/html', value: '<b>x</b>' }]);
    expect(body.from).toEqual({ email: 'shop@example.com' });
  });

  it('a baseUrl with a trailing slash still hits /v3/mail/send', async () => {
    await sendThrough(sendgridProvider, ctxFor({ settings: { ...settings, baseUrl: `${sendgrid.url}/` } }));
    expect(sendgrid.http.lastRequest?.path).toBe('/v3/mail/send');
  });

  it('a wrong API key (401) is permanent', async () => {
    const error = await sendThrough(sendgridProvider, ctxFor({ settings: { ...settings, apiKey: 'SG.wrong' } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.status).toBe(401);
  });

  it('a 400 from SendGrid is permanent and carries its message', async () => {
    sendgrid.http.respondOnce({
      status: 400,
      body: { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }] },
    });
    const error = await sendThrough(sendgridProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.status).toBe(400);
    expect(error.message).toContain('Does not contain a valid address.');
  });

  it('429 is retryable with Retry-After', async () => {
    sendgrid.http.respondOnce({ status: 429, headers: { 'retry-after': '7' }, body: { errors: [] } });
    const error = await sendThrough(sendgridProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(7000);
  });

  it.each([500, 502, 503])('%i is retryable', async (status) => {
    sendgrid.http.respondOnce({ status, body: 'upstream trouble' });
    const error = await sendThrough(sendgridProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.status).toBe(status);
  });

  it('no answer within timeoutMs is retryable', async () => {
    sendgrid.http.respondOnce({ hang: true });
    const error = await sendThrough(sendgridProvider, ctxFor({ settings: { ...settings, timeoutMs: 150 } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.message).toMatch(/150 ms/);
  });

  it('a refused connection is retryable', async () => {
    const error = await sendThrough(
      sendgridProvider,
      ctxFor({ settings: { ...settings, baseUrl: await refusedUrl() } }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
  });

  it.each([
    [{ apiKey: '' }, 'sendgrid: settings.apiKey is required'],
    [{ apiKey: undefined }, 'sendgrid: settings.apiKey is required'],
    [{ fromEmail: undefined }, 'sendgrid: settings.fromEmail is required'],
    [{ baseUrl: 'not a url' }, 'sendgrid: settings.baseUrl must be an http(s) URL'],
    [{ baseUrl: 'ftp://example.com' }, 'sendgrid: settings.baseUrl must be an http(s) URL'],
    [{ timeoutMs: -1 }, 'sendgrid: settings.timeoutMs must be a positive number'],
  ])('invalid settings %p are permanent', async (patch, message) => {
    const error = await sendThrough(
      sendgridProvider,
      ctxFor({ settings: { ...settings, ...patch } as SendGridSettings }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.message).toContain(message);
    expect(sendgrid.http.requests).toHaveLength(0);
  });

  it('a non-email address or empty content is permanent, nothing sent', async () => {
    await expect(sendThrough(sendgridProvider, ctxFor({ address: 42 }))).rejects.toBeInstanceOf(PermanentProviderError);
    await expect(sendThrough(sendgridProvider, ctxFor({ content: { subject: 'S' } }))).rejects.toBeInstanceOf(
      PermanentProviderError,
    );
    expect(sendgrid.http.requests).toHaveLength(0);
  });
});
