import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { openDatabase } from '../../src/open-database';
import { createLogger } from '../../src/ops/logger';
import { Worker } from '../../src/pipeline/worker';
import { createServices, type Services } from '../../src/services';
import { HttpFake } from '../helpers/fakes/http-fake';
import { basic, fixture, isMysql, TEST_SERVICE_CONFIG, testDatabaseUrl, uid } from '../helpers/test-app';

const marker = (what: string) => `MARKER-${what}-${randomUUID()}`;

/**
 * Structured logs: one line per request with request id, workspace and outcome; pipeline lines with
 * message and delivery ids; and no key, provider secret or trait value in any line — checked on the
 * real log stream of a real app through ingest, GraphQL and a pipeline run.
 */
describe('structured logs', () => {
  const lines: string[] = [];
  let db: Database;
  let services: Services;
  let app: FastifyInstance;
  let fake: HttpFake;
  let ws: { workspaceId: number; adminKey: string; ingestKey: string };
  const markers: string[] = [];

  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger('trace', stream);
    db = await openDatabase(testDatabaseUrl(), { migrate: !isMysql() });
    services = createServices(db, TEST_SERVICE_CONFIG, logger);
    app = await createApp({ services, config: { production: false, logLevel: 'trace' }, logger });
    await app.ready();
    const created = await services.workspaces.createWorkspace(`t-${randomUUID().slice(0, 12)}`);
    ws = { workspaceId: created.workspace.id, adminKey: created.admin.secret, ingestKey: created.ingest.secret };
    fake = await HttpFake.start(() => ({ status: 200, body: { id: 'hook-1' } }));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
    if (db.dataSource.isInitialized) await db.dataSource.destroy();
  });

  const post = (url: string, body: unknown, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      payload: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...headers },
    });
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await post('/graphql', { query, variables }, { authorization: `Bearer ${ws.adminKey}` });
    const body = res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };

  it('never writes keys, provider secrets or trait values, through ingest, GraphQL and a pipeline run', async () => {
    const userId = uid();
    const trait = marker('trait');
    const nested = marker('nested-trait');
    const batchTrait = marker('batch-trait');
    const merged = marker('merged-trait');
    const hookSecret = marker('webhook-secret');
    const hookHeader = marker('webhook-header');
    const logApiKey = marker('log-api-key');
    markers.push(trait, nested, batchTrait, merged, hookSecret, hookHeader, logApiKey);

    // ingest with each of the three credentials, and requests that fail
    const basicAuth = { authorization: basic(ws.ingestKey) };
    expect(
      (
        await post(
          '/v1/identify',
          { userId, traits: { email: `${userId}@example.com`, note: trait, deep: { x: nested } } },
          basicAuth,
        )
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await post('/segment', fixture('identify', { userId, traits: { note: trait } }), {
          authorization: `Bearer ${ws.ingestKey}`,
        })
      ).statusCode,
    ).toBe(202);
    expect(
      (
        await post(
          '/v1/batch',
          {
            writeKey: ws.ingestKey,
            batch: [
              { type: 'identify', userId, traits: { other: batchTrait } },
              { type: 'track', userId },
            ],
          },
          {},
        )
      ).statusCode,
    ).toBe(200);
    expect(
      (await post('/v1/identify', `{"userId": "${userId}", "traits": {"note": "${trait}"`, basicAuth)).statusCode,
    ).toBe(400);
    expect((await post('/v1/identify', { userId, traits: trait }, basicAuth)).statusCode).toBe(400);
    expect(
      (await post('/v1/identify', { userId, traits: { note: trait } }, { authorization: 'Bearer not-a-key' }))
        .statusCode,
    ).toBe(401);

    // GraphQL: provider secrets and a trait merge
    await gql(
      `mutation($w: ProviderConfigInput!, $l: ProviderConfigInput!) {
        w: configureProvider(input: $w) { id config }
        l: configureProvider(input: $l) { id config }
      }`,
      {
        w: {
          channel: 'WEBHOOK',
          provider: 'webhook',
          config: { url: fake.url, secret: hookSecret, headers: { 'X-Token': hookHeader } },
        },
        l: { channel: 'EMAIL', provider: 'log', config: { label: 'logs-test', apiKey: logApiKey } },
      },
    );
    await gql('mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { userId } }', {
      u: userId,
      t: { vip: merged },
    });
    const { createTemplate } = await gql(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, {
      i: {
        key: 'order',
        name: 'Order',
        channels: ['WEBHOOK', 'EMAIL'],
        content: {
          webhook: { body: { order: '{{data.orderId}}' } },
          email: { subject: 'Order {{data.orderId}}', text: 'Thanks' },
        },
      },
    });
    await gql('mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: createTemplate.id });
    await gql(
      `mutation($t: ID!) { createRoutingRule(input: {name: "both", templateId: $t, priority: 0, action: ROUTE, method: ALL, channels: [WEBHOOK, EMAIL]}) { id } }`,
      { t: createTemplate.id },
    );
    await gql(
      'mutation($t: ID!) { mapEvent(eventName: "Segment-TrackEvent:Order Completed", templateId: $t) { eventName } }',
      {
        t: createTemplate.id,
      },
    );

    // a pipeline run, with one retried webhook attempt
    fake.respondOnce({ status: 503, body: 'busy' });
    expect(
      (await post('/v1/track', { userId, event: 'Order Completed', properties: { orderId: 'A-1' } }, basicAuth))
        .statusCode,
    ).toBe(200);
    const worker = new Worker(
      services.queue,
      services.pipeline,
      { concurrency: 4, leaseMs: 30_000, pollMs: 20, workspaceIds: [ws.workspaceId] },
      createLoggerFor(),
    );
    await worker.drain(500);
    expect(fake.requests.length).toBe(2);
    expect(fake.requests[1].headers['x-token']).toBe(hookHeader);
    const { messages } = await gql('{ messages(first: 5) { edges { node { id status deliveries { status } } } } }');
    expect(messages.edges[0].node.status).toBe('SENT');

    // ---- the log stream
    expect(lines.length).toBeGreaterThan(10);
    const forbidden = [
      ...markers,
      ws.ingestKey,
      ws.adminKey,
      basic(ws.ingestKey).slice('Basic '.length),
      Buffer.from(`${ws.ingestKey}:`).toString('base64').slice(0, 20),
    ];
    for (const line of lines) for (const secret of forbidden) expect(line).not.toContain(secret);
  });

  /** The worker logs to the same stream (what index.ts does). */
  function createLoggerFor() {
    return (app.log as unknown as import('pino').Logger).child({ component: 'worker' });
  }

  it('writes one line per request with request id, route, status, workspace id and outcome', () => {
    const requests = parsed().filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThanOrEqual(12);
    for (const r of requests) {
      expect(typeof r.reqId).toBe('string');
      expect(r.reqId.length).toBeGreaterThan(0);
      expect(['ok', 'refused', 'error']).toContain(r.outcome);
      expect(typeof r.status).toBe('number');
      expect(typeof r.ms).toBe('number');
    }
    const ingest = requests.filter((r) => r.route === '/v1/identify' && r.status === 200);
    expect(ingest[0]).toMatchObject({
      workspaceId: ws.workspaceId,
      outcome: 'ok',
      events: { stored: 1, duplicate: 0, rejected: 0 },
    });
    const batch = requests.find((r) => r.route === '/v1/batch')!;
    expect(batch).toMatchObject({ workspaceId: ws.workspaceId, events: { stored: 1, rejected: 1 } });
    const refused = requests.find((r) => r.route === '/v1/identify' && r.status === 401)!;
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect(refused.workspaceId).toBeUndefined();
    const graphql = requests.filter((r) => r.route === '/graphql');
    expect(graphql.length).toBeGreaterThanOrEqual(6);
    for (const g of graphql) expect(g.workspaceId).toBe(ws.workspaceId);
    // request ids are unique, and a caller's X-Request-Id is kept
    expect(new Set(requests.map((r) => r.reqId)).size).toBe(requests.length);
  });

  it('keeps a caller X-Request-Id as the request id', async () => {
    const requestId = `trace-${randomUUID()}`;
    await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': requestId } });
    expect(parsed().find((l) => l.msg === 'request' && l.reqId === requestId)).toMatchObject({
      route: '/healthz',
      status: 200,
    });
  });

  it('writes pipeline lines with message id and delivery id for each attempt', () => {
    const attempts = parsed().filter((l) => l.msg === 'delivery attempt');
    expect(attempts.map((a) => `${a.provider}:${a.outcome}`).sort()).toEqual([
      'log:SENT',
      'webhook:RETRY',
      'webhook:SENT',
    ]);
    for (const a of attempts) {
      expect(a.messageId).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.workspaceId).toBe(ws.workspaceId);
    }
    const retry = attempts.find((a) => a.outcome === 'RETRY')!;
    expect(retry).toMatchObject({ level: 40, providerStatus: 503 });
    const statuses = parsed().filter((l) => l.component === 'pipeline' && l.status);
    expect(statuses.map((s) => s.status)).toEqual(expect.arrayContaining(['ROUTED', 'SENT']));
    for (const s of statuses) expect(s.messageId).toBe(attempts[0].messageId);
  });

  it('redacts credentials, settings, traits and SQL parameters whoever logs them', () => {
    const secret = marker('direct');
    const before = lines.length;
    const log = app.log as unknown as import('pino').Logger;
    const sqlError = Object.assign(new Error('insert failed'), {
      query: 'INSERT INTO profiles (traits) VALUES (?)',
      parameters: [secret],
      driverError: { sql: `INSERT INTO profiles (traits) VALUES ('${secret}')` },
    });
    log.error({ err: sqlError }, 'store unavailable');
    log.info({ req: { headers: { authorization: `Bearer ${secret}` } } }, 'a request');
    log.info({ headers: { authorization: `Basic ${secret}` } }, 'headers');
    log.info({ traits: { a: secret }, profile: { traits: { a: secret } } }, 'a profile');
    log.info({ settings: { token: secret }, provider: { config: { password: secret } } }, 'a provider');
    log.info({ body: { writeKey: secret } }, 'a body');
    const written = lines.slice(before);
    expect(written.length).toBe(6);
    for (const line of written) expect(line).not.toContain(secret);
    expect(written[0]).toContain('INSERT INTO profiles (traits) VALUES (?)'); // the statement stays, its values go
    expect(written.join('\n')).toContain('[redacted]');
  });
});
