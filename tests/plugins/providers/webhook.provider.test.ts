import { createHmac, timingSafeEqual } from 'node:crypto';
import { Channel } from '../../../src/domain/channel/channel.enum';
import { PermanentProviderError, RetryableProviderError } from '../../../src/domain/provider/provider.errors';
import { webhookProvider, type WebhookSettings } from '../../../src/plugins/providers/webhook/webhook.provider';
import { HttpFake, refusedUrl, type RecordedRequest } from '../../helpers/fakes/http-fake';
import { sendContext } from '../../helpers/fakes/send-context';
import { sendThrough } from '../../helpers/provider-send';

const SECRET = 'whsec_test_secret';

/** What a receiver does: recompute the HMAC over the exact bytes received and compare in constant time. */
function verifySignature(req: RecordedRequest, secret: string): boolean {
  const header = req.headers['x-pigeon-signature'];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(req.rawBody).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook provider', () => {
  let receiver: HttpFake;
  let settings: WebhookSettings;

  beforeAll(async () => {
    // a receiver that only takes JSON POSTs on /hooks/pigeon and answers with an id
    receiver = await HttpFake.start((req) => {
      if (req.method !== 'POST' || req.pathname !== '/hooks/pigeon') return { status: 404 };
      if (!String(req.headers['content-type']).startsWith('application/json') || req.json === undefined) {
        return { status: 415, body: { error: 'JSON expected' } };
      }
      return { status: 200, body: { id: `evt_${receiver.requests.length}`, ok: true } };
    });
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.reset();
    settings = { url: `${receiver.url}/hooks/pigeon`, secret: SECRET, timeoutMs: 2000 };
  });

  const ctxFor = (overrides: { settings?: WebhookSettings; body?: unknown; eventName?: string | null } = {}) =>
    sendContext<WebhookSettings>({
      channel: Channel.WEBHOOK,
      settings: overrides.settings ?? settings,
      address: undefined,
      content: { body: overrides.body },
      profile: { userId: 'user-7', traits: {} },
      message: {
        id: 'msg-99',
        eventName: overrides.eventName === undefined ? 'Segment-TrackEvent:Order Completed' : overrides.eventName,
        data: { orderId: 'o-1', total: 12.5, items: ['a', 'b'] },
      },
      idempotencyKey: 'delivery-3:1',
    });

  it('describes every setting and marks the secret', () => {
    for (const prop of Object.values(webhookProvider.settings.properties)) {
      expect(prop.description.length).toBeGreaterThan(0);
    }
    expect(webhookProvider.settings.properties.secret.secret).toBe(true);
    expect(webhookProvider.channels).toEqual([Channel.WEBHOOK]);
  });

  it('without a rendered body posts the default body, signed, with Idempotency-Key', async () => {
    const result = await sendThrough(webhookProvider, ctxFor());

    expect(result).toEqual({ externalId: 'evt_1' });
    const req = receiver.requests[0];
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/hooks/pigeon');
    expect(req.json).toEqual({
      event: 'Segment-TrackEvent:Order Completed',
      userId: 'user-7',
      data: { orderId: 'o-1', total: 12.5, items: ['a', 'b'] },
      messageId: 'msg-99',
    });
    expect(req.headers['idempotency-key']).toBe('delivery-3:1');
    expect(req.headers['x-pigeon-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(req, SECRET)).toBe(true);
    expect(verifySignature(req, 'another-secret')).toBe(false);
  });

  it('a direct send has event null', async () => {
    await sendThrough(webhookProvider, ctxFor({ eventName: null }));
    expect((receiver.lastRequest?.json as { event: unknown }).event).toBeNull();
  });

  it('posts a rendered object body as JSON, signature over the exact bytes (non-ASCII included)', async () => {
    const body = { type: 'order', customer: 'Zoë', note: 'naïve – “quoted”', nested: { n: 1 } };
    await sendThrough(webhookProvider, ctxFor({ body }));
    const req = receiver.requests[0];
    expect(req.json).toEqual(body);
    expect(verifySignature(req, SECRET)).toBe(true);
  });

  it('sends a rendered string that is JSON text byte for byte', async () => {
    const text = '{ "orderId": "o-1",\n  "total": 12.50 }';
    await sendThrough(webhookProvider, ctxFor({ body: text }));
    const req = receiver.requests[0];
    expect(req.body).toBe(text);
    expect(verifySignature(req, SECRET)).toBe(true);
  });

  it('sends a rendered string that is not JSON as a JSON string', async () => {
    await sendThrough(webhookProvider, ctxFor({ body: 'Order o-1 shipped' }));
    expect(receiver.requests[0].body).toBe('"Order o-1 shipped"');
    expect(receiver.requests[0].json).toBe('Order o-1 shipped');
  });

  it('without a secret sends no signature; extra headers pass but cannot override reserved ones', async () => {
    await sendThrough(
      webhookProvider,
      ctxFor({
        settings: {
          url: settings.url,
          headers: { Authorization: 'Bearer hook-token', 'X-Pigeon-Signature': 'forged', 'Content-Type': 'text/plain' },
        },
      }),
    );
    const req = receiver.requests[0];
    expect(req.headers.authorization).toBe('Bearer hook-token');
    expect(req.headers['x-pigeon-signature']).toBeUndefined();
    expect(req.headers['content-type']).toBe('application/json');
  });

  it('externalId is the delivery id (Idempotency-Key) when the response has no JSON id', async () => {
    receiver.respondOnce({ status: 204 });
    const ctx = ctxFor();
    await expect(sendThrough(webhookProvider, ctx)).resolves.toEqual({ externalId: ctx.idempotencyKey });
    expect(receiver.requests.at(-1)!.headers['idempotency-key']).toBe(ctx.idempotencyKey);
    receiver.respondOnce({ status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } });
    const ctx2 = ctxFor();
    await expect(sendThrough(webhookProvider, ctx2)).resolves.toEqual({ externalId: ctx2.idempotencyKey });
    receiver.respondOnce({ status: 201, body: { id: 1234 } });
    await expect(sendThrough(webhookProvider, ctxFor())).resolves.toEqual({ externalId: '1234' });
  });

  it.each([400, 401, 404, 410, 422])('%i is permanent', async (status) => {
    receiver.respondOnce({ status, body: { error: 'nope' } });
    const error = await sendThrough(webhookProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.status).toBe(status);
  });

  it('429 is retryable with Retry-After', async () => {
    receiver.respondOnce({ status: 429, headers: { 'retry-after': '2' } });
    const error = await sendThrough(webhookProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.retryAfterMs).toBe(2000);
  });

  it.each([408, 500, 503])('%i is retryable', async (status) => {
    receiver.respondOnce({ status });
    const error = await sendThrough(webhookProvider, ctxFor()).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.status).toBe(status);
  });

  it('no answer within timeoutMs is retryable, and the call gives up at timeoutMs (not a timer tick later)', async () => {
    receiver.respondOnce({ hang: true });
    const started = Date.now();
    const error = await sendThrough(webhookProvider, ctxFor({ settings: { ...settings, timeoutMs: 150 } })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.message).toMatch(/no answer within 150 ms/);
    // undici's own timeouts run on a 1 s tick; the provider's timer must not
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('a dropped connection and a refused connection are retryable', async () => {
    receiver.respondOnce({ destroy: true });
    await expect(sendThrough(webhookProvider, ctxFor())).rejects.toBeInstanceOf(RetryableProviderError);
    const url = `${await refusedUrl()}/hooks/pigeon`;
    await expect(sendThrough(webhookProvider, ctxFor({ settings: { url } }))).rejects.toBeInstanceOf(
      RetryableProviderError,
    );
  });

  it('aborting the signal stops the request, retryable', async () => {
    receiver.respondOnce({ hang: true });
    const controller = new AbortController();
    const ctx = { ...ctxFor(), signal: controller.signal };
    setTimeout(() => controller.abort(), 50);
    const error = await sendThrough(webhookProvider, ctx).catch((e) => e);
    expect(error).toBeInstanceOf(RetryableProviderError);
    expect(error.message).toMatch(/cancelled/);
  });

  it.each([
    [{}, 'webhook: settings.url is required'],
    [{ url: 'not a url' }, 'webhook: settings.url must be an http(s) URL'],
    [{ url: 'file:///etc/passwd' }, 'webhook: settings.url must be an http(s) URL'],
    [{ url: 'http://127.0.0.1:1/x', headers: { 'bad header': 'x' } }, 'invalid name'],
    [{ url: 'http://127.0.0.1:1/x', headers: { 'X-A': 'a\r\nInjected: 1' } }, 'single-line string'],
    [{ url: 'http://127.0.0.1:1/x', headers: ['x'] }, 'settings.headers must be an object'],
  ])('invalid settings %p are permanent', async (bad, message) => {
    const error = await sendThrough(webhookProvider, ctxFor({ settings: bad as WebhookSettings })).catch((e) => e);
    expect(error).toBeInstanceOf(PermanentProviderError);
    expect(error.message).toContain(message);
  });
});
