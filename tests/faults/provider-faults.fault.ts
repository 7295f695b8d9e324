import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { fromDbTime } from '../../src/db/dialect';
import { openDatabase } from '../../src/open-database';
import { MAX_RETRY_AFTER_MS } from '../../src/pipeline/retry-policy';
import { Worker } from '../../src/pipeline/worker';
import { createServices, type Services } from '../../src/services';
import { HttpFake, refusedUrl, type FakeResponse } from '../helpers/fakes/http-fake';
import { freshDatabase, report, sleep, waitFor, type FreshDatabase } from './support';

/**
 * Provider faults (docs/guarantees.md, "Retries, backoff and failover"): a webhook provider that times out, answers
 * 500, 408, 429 with Retry-After, 400, or refuses the connection, with a second webhook configuration
 * of lower priority behind it. Retryable failures are tried PIGEON_RETRY_ATTEMPTS (3) times with
 * exponential backoff from PIGEON_RETRY_BASE_MS (50 here) or after Retry-After (capped at 5 minutes),
 * then the next provider takes over; a permanent error (400) is not retried and fails over at once.
 * Every try of one delivery carries the same Idempotency-Key.
 */
const BASE_MS = 50;
const ATTEMPTS = 3;
const TIMEOUT_MS = 300;

interface Outcome {
  status: string;
  primary: { at: number; key: string }[];
  backup: { at: number; key: string }[];
  deliveries: { status: string; attempts: number; lastError: string | null }[];
  history: { type: string; detail: any }[];
}

describe('fault: provider failures, retries, Retry-After and failover', () => {
  let fresh: FreshDatabase;
  let db: Database;
  let services: Services;
  let app: FastifyInstance;
  let worker: Worker;
  const fakes: HttpFake[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    fresh = await freshDatabase('providers');
    db = await openDatabase(fresh.url);
    const logger = pino({ level: 'silent' });
    services = createServices(db, { secret: 'faults', retryAttempts: ATTEMPTS, retryBaseMs: BASE_MS }, logger);
    app = await createApp({ services, config: { production: false, logLevel: 'silent' }, logger });
    worker = new Worker(services.queue, services.pipeline, { concurrency: 8, leaseMs: 30_000, pollMs: 10 }, logger);
    worker.start();
  });
  afterAll(async () => {
    await worker.stop(1000);
    await app.close();
    for (const f of fakes) await f.close();
    await db.dataSource.destroy();
    await fresh.drop();
    report('provider-faults', figures.join('; '));
  });

  async function gql(key: string, query: string, variables: Record<string, unknown> = {}) {
    const res = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      payload: JSON.stringify({ query, variables }),
    });
    const body = res.json();
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  /** A recording fake: arrival times and Idempotency-Keys; `answers` in turn, the last one repeated. */
  async function fake(answers: FakeResponse[], log: { at: number; key: string }[]): Promise<HttpFake> {
    let i = 0;
    const f = await HttpFake.start((req) => {
      log.push({ at: Date.now(), key: String(req.headers['idempotency-key']) });
      return answers[Math.min(i++, answers.length - 1)];
    });
    fakes.push(f);
    return f;
  }

  /** Sends one message through `primary` (priority 0) with `backup` (priority 1) behind it; waits for `until`. */
  async function run(
    name: string,
    primary: FakeResponse[] | 'refused',
    until: (status: string) => boolean = (s) => s === 'SENT' || s === 'UNDELIVERABLE',
  ): Promise<Outcome & { messageId: string }> {
    const ws = await services.workspaces.createWorkspace(`prov-${name}-${Date.now()}`);
    const key = ws.admin.secret;
    const out: Outcome = { status: '', primary: [], backup: [], deliveries: [], history: [] };
    const primaryUrl = primary === 'refused' ? await refusedUrl() : (await fake(primary, out.primary)).url;
    const backup = await fake([{ status: 200, body: { id: 'backup' } }], out.backup);
    const configure = 'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id } }';
    await gql(key, configure, {
      i: { channel: 'WEBHOOK', provider: 'webhook', priority: 0, config: { url: primaryUrl, timeoutMs: TIMEOUT_MS } },
    });
    await gql(key, configure, {
      i: { channel: 'WEBHOOK', provider: 'webhook', priority: 1, config: { url: backup.url } },
    });
    const { createTemplate } = await gql(key, 'mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }', {
      i: { key: 't', name: 't', channels: ['WEBHOOK'], content: { webhook: {} } },
    });
    await gql(key, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: createTemplate.id });
    const { send } = await gql(key, 'mutation($i: SendInput!) { send(input: $i) { id } }', {
      i: { userId: 'u-1', templateId: createTemplate.id, data: { scenario: name } },
    });
    const query = `query($id: ID!) { message(id: $id) { status deliveries { status attempts lastError } history { type detail } } }`;
    await waitFor(
      `${name}: the message to finish`,
      async () => {
        const { message } = await gql(key, query, { id: send.id });
        Object.assign(out, { status: message.status, deliveries: message.deliveries, history: message.history });
        return until(message.status);
      },
      30_000,
      25,
    );
    return { ...out, messageId: send.id };
  }

  const gaps = (log: { at: number }[]) => log.slice(1).map((l, i) => l.at - log[i].at);
  const attempts = (o: Outcome) => o.history.filter((h) => h.type === 'ATTEMPT').map((h) => h.detail.outcome);

  it('a timeout is retried with backoff, then the next provider is used', async () => {
    const o = await run('timeout', [{ hang: true }]);
    const g = gaps(o.primary);
    figures.push(`timeout: ${o.primary.length} tries (gaps ${g.join('/')} ms) then failover → ${o.status}`);
    expect(o.primary).toHaveLength(ATTEMPTS);
    expect(new Set(o.primary.map((p) => p.key)).size).toBe(1);
    expect(g[0]).toBeGreaterThanOrEqual(TIMEOUT_MS + BASE_MS / 2 - 5);
    expect(g[1]).toBeGreaterThanOrEqual(TIMEOUT_MS + BASE_MS - 5);
    expect(o.backup).toHaveLength(1);
    expect(o.backup[0].key).not.toBe(o.primary[0].key); // another delivery, another key
    expect(o.status).toBe('SENT');
    expect(o.deliveries).toEqual([
      { status: 'FAILED', attempts: ATTEMPTS, lastError: expect.stringContaining(`no answer within ${TIMEOUT_MS} ms`) },
      { status: 'SENT', attempts: 1, lastError: null },
    ]);
    expect(attempts(o)).toEqual(['RETRY', 'RETRY', 'FAILED', 'SENT']);
  });

  it('500 is retried with exponential backoff (base, then twice the base), then the next provider', async () => {
    const o = await run('http500', [{ status: 500, body: 'boom' }]);
    const g = gaps(o.primary);
    figures.push(`500: ${o.primary.length} tries (gaps ${g.join('/')} ms) then failover → ${o.status}`);
    expect(o.primary).toHaveLength(ATTEMPTS);
    expect(new Set(o.primary.map((p) => p.key)).size).toBe(1);
    expect(g[0]).toBeGreaterThanOrEqual(BASE_MS / 2 - 5); // equal jitter: between half and all of base·2^(n−1)
    expect(g[1]).toBeGreaterThanOrEqual(BASE_MS - 5);
    expect(o.backup).toHaveLength(1);
    expect(o.status).toBe('SENT');
    expect(o.history.filter((h) => h.type === 'ATTEMPT')[2].detail).toMatchObject({
      outcome: 'FAILED',
      status: 500,
      retryable: true,
      why: `out of tries (${ATTEMPTS})`,
    });
  });

  it('408 is retryable: the second try succeeds on the same provider', async () => {
    const o = await run('http408', [{ status: 408 }, { status: 200, body: { id: 'p' } }]);
    figures.push(`408: ${o.primary.length} tries → ${o.status} on the first provider`);
    expect(o.primary).toHaveLength(2);
    expect(o.backup).toHaveLength(0);
    expect(o.status).toBe('SENT');
  });

  it('429 with Retry-After is honoured instead of the backoff', async () => {
    const o = await run('http429', [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 200, body: { id: 'p' } },
    ]);
    const [waited] = gaps(o.primary);
    figures.push(
      `429 Retry-After 1 s: waited ${waited} ms, ${o.primary.length} tries → ${o.status} on the first provider`,
    );
    expect(o.primary).toHaveLength(2);
    expect(waited).toBeGreaterThanOrEqual(1000 - 5);
    expect(waited).toBeLessThan(5000);
    expect(o.backup).toHaveLength(0);
    expect(o.status).toBe('SENT');
    expect(o.history.find((h) => h.type === 'ATTEMPT')!.detail).toMatchObject({
      outcome: 'RETRY',
      status: 429,
      retryInMs: 1000,
    });
  });

  it('a Retry-After beyond 5 minutes is capped at 5 minutes', async () => {
    const o = await run('http429long', [{ status: 429, headers: { 'retry-after': '3600' } }], (s) => s === 'ROUTED');
    const scheduled = async () =>
      (await db.rows('SELECT 1 FROM deliveries WHERE message_id = ? AND next_attempt_at IS NOT NULL', [o.messageId]))
        .length > 0;
    await waitFor('the retry to be scheduled', scheduled, 10_000, 25);
    const [row] = await db.rows<{ next_attempt_at: unknown; updated_at: unknown }>(
      'SELECT next_attempt_at, updated_at FROM deliveries WHERE message_id = ?',
      [o.messageId],
    );
    const delay = fromDbTime(row.next_attempt_at).getTime() - fromDbTime(row.updated_at).getTime();
    figures.push(
      `429 Retry-After 3600 s: next try in ${Math.round(delay / 1000)} s (cap ${MAX_RETRY_AFTER_MS / 1000} s)`,
    );
    expect(delay).toBeGreaterThan(MAX_RETRY_AFTER_MS - 2000);
    expect(delay).toBeLessThanOrEqual(MAX_RETRY_AFTER_MS + 10);
    expect(o.backup).toHaveLength(0);
  });

  it('400 is permanent: not retried, the next provider at once', async () => {
    const o = await run('http400', [{ status: 400, body: { error: 'bad request' } }]);
    const failoverMs = o.backup[0].at - o.primary[0].at;
    figures.push(`400: ${o.primary.length} try, failover after ${failoverMs} ms → ${o.status}`);
    expect(o.primary).toHaveLength(1);
    expect(o.backup).toHaveLength(1);
    expect(failoverMs).toBeLessThan(BASE_MS * 10);
    expect(o.status).toBe('SENT');
    expect(o.deliveries[0]).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(o.history.find((h) => h.type === 'ATTEMPT')!.detail).toMatchObject({
      outcome: 'FAILED',
      status: 400,
      retryable: false,
      why: 'permanent error',
    });
  });

  it('a refused connection is retryable: 3 tries, then the next provider', async () => {
    const o = await run('refused', 'refused');
    figures.push(`connection refused: ${o.deliveries[0]?.attempts} tries then failover → ${o.status}`);
    expect(o.deliveries[0]).toMatchObject({ status: 'FAILED', attempts: ATTEMPTS });
    expect(o.backup).toHaveLength(1);
    expect(o.status).toBe('SENT');
  });

  it('when every provider fails for good the message is UNDELIVERABLE, each tried once', async () => {
    const ws = await services.workspaces.createWorkspace(`prov-all-${Date.now()}`);
    const log: { at: number; key: string }[] = [];
    const bad = await fake([{ status: 403, body: 'forbidden' }], log);
    const key = ws.admin.secret;
    for (const priority of [0, 1]) {
      await gql(key, 'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id } }', {
        i: { channel: 'WEBHOOK', provider: 'webhook', priority, config: { url: `${bad.url}/${priority}` } },
      });
    }
    const { createTemplate } = await gql(key, 'mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }', {
      i: { key: 't', name: 't', channels: ['WEBHOOK'], content: { webhook: {} } },
    });
    await gql(key, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: createTemplate.id });
    const { send } = await gql(key, 'mutation($i: SendInput!) { send(input: $i) { id } }', {
      i: { userId: 'u', templateId: createTemplate.id },
    });
    let final: any;
    await waitFor(
      'UNDELIVERABLE',
      async () => {
        final = (await gql(key, 'query($id: ID!) { message(id: $id) { status reason } }', { id: send.id })).message;
        return final.status === 'UNDELIVERABLE';
      },
      10_000,
      25,
    );
    await sleep(200);
    figures.push(`403 on every provider: ${log.length} requests → ${final.status} ${final.reason}`);
    expect(final).toEqual({ status: 'UNDELIVERABLE', reason: 'ALL_CHANNELS_FAILED' });
    expect(log).toHaveLength(2);
  });
});
