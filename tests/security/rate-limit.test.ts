import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp } from '../../src/app';
import { ConfigError, loadConfig } from '../../src/config';
import { HttpError } from '../../src/ingest/http-error';
import { registerIngestRateLimit } from '../../src/ingest/rate-limit';
import { basic, fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * Per-key rate limit on the ingest routes (README.md, "Limits and errors": 429 with Retry-After),
 * PIGEON_RATE_LIMIT_PER_MINUTE.
 */
describe('ingest rate limit', () => {
  let t: TestApp;
  let limited: FastifyInstance;
  const LIMIT = 5;

  const post = (app: FastifyInstance, url: string, body: unknown, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });

  async function eventCount(key: string): Promise<number> {
    const res = await t.gql('{ events(first: 500) { edges { cursor } } }', {}, key);
    return res.data!.events.edges.length;
  }

  beforeAll(async () => {
    t = await startTestApp();
    limited = await createApp({
      services: t.services,
      config: { production: false, logLevel: 'silent', rateLimitPerMinute: LIMIT },
      logger: pino({ level: 'silent' }),
    });
    await limited.ready();
  });
  afterAll(async () => {
    await limited.close();
    await t.close();
  });

  it('is off by default: a key may send as much as it likes', async () => {
    const ws = await t.newWorkspace();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        t.send('/v1/track', { userId: uid(), event: 'Unlimited' }, ws.ingestKey).then((r) => r.statusCode),
      ),
    );
    expect(new Set(answers)).toEqual(new Set([200]));
    expect(loadConfig({}).rateLimitPerMinute).toBe(0);
    expect(loadConfig({ PIGEON_RATE_LIMIT_PER_MINUTE: '600' }).rateLimitPerMinute).toBe(600);
    expect(() => loadConfig({ PIGEON_RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(ConfigError);
  });

  it(`${LIMIT} requests per key and minute, then 429 {message, code} with Retry-After; nothing of it is stored`, async () => {
    const ws = await t.newWorkspace();
    const auth = { authorization: basic(ws.ingestKey) };
    for (let i = 0; i < LIMIT; i++) {
      const res = await post(limited, '/v1/track', { userId: uid(), event: 'Limited' }, auth);
      expect(res.statusCode).toBe(200);
    }
    const refused = await post(limited, '/segment', fixture('track'), auth);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({
      message: expect.stringMatching(/^Rate limit exceeded: at most 5 requests per 60 s with one key; retry in \d+ s$/),
      code: 'RATE_LIMITED',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await eventCount(ws.adminKey)).toBe(LIMIT);
  });

  it('counts per key: the same key in any of the three forms shares a budget; other keys have their own', async () => {
    const ws = await t.newWorkspace();
    const other = await t.newWorkspace();
    const forms = [
      (body: Record<string, unknown>) => post(limited, '/v1/identify', body, { authorization: basic(ws.ingestKey) }),
      (body: Record<string, unknown>) =>
        post(limited, '/v1/identify', body, { authorization: `Bearer ${ws.ingestKey}` }),
      (body: Record<string, unknown>) => post(limited, '/v1/identify', { ...body, writeKey: ws.ingestKey }, {}),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++) statuses.push((await forms[i % 3]({ userId: uid() })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // the admin key of the same workspace and another workspace's key are separate budgets
    expect(
      (await post(limited, '/v1/identify', { userId: uid() }, { authorization: basic(ws.adminKey) })).statusCode,
    ).toBe(200);
    expect(
      (await post(limited, '/v1/identify', { userId: uid() }, { authorization: basic(other.ingestKey) })).statusCode,
    ).toBe(200);
  });

  it('a batch counts as one request; GraphQL and /healthz are not limited', async () => {
    const ws = await t.newWorkspace();
    const auth = { authorization: basic(ws.ingestKey) };
    const batch = { batch: Array.from({ length: 50 }, () => ({ type: 'track', userId: uid(), event: 'Batch' })) };
    for (let i = 0; i < LIMIT; i++) expect((await post(limited, '/v1/batch', batch, auth)).statusCode).toBe(200);
    expect((await post(limited, '/v1/batch', batch, auth)).statusCode).toBe(429);
    for (let i = 0; i < LIMIT * 2; i++) {
      const gql = await post(
        limited,
        '/graphql',
        { query: '{ eventNames { name } }' },
        { authorization: `Bearer ${ws.adminKey}` },
      );
      expect(gql.statusCode).toBe(200);
      expect((await limited.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    }
  });

  it('requests without a key count per client address and still get their 401 first', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++)
      statuses.push((await post(limited, '/v1/track', { userId: 'x', event: 'y' }, {})).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('the budget comes back when the window ends', async () => {
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof HttpError)
        return reply.code(error.statusCode).headers(error.headers).send({ message: error.message, code: error.code });
      return reply.code(500).send({ message: 'unexpected' });
    });
    await registerIngestRateLimit(app, 2, 1000);
    app.post('/v1/track', async () => ({ success: true }));
    const auth = { authorization: basic('pgn_i_window') };
    expect((await post(app, '/v1/track', {}, auth)).statusCode).toBe(200);
    expect((await post(app, '/v1/track', {}, auth)).statusCode).toBe(200);
    const refused = await post(app, '/v1/track', {}, auth);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await post(app, '/v1/track', {}, auth)).statusCode).toBe(200);
    await app.close();
  });
});
