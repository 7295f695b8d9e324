import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { createApp } from '../../src/app';
import { buildOpenApiDocument } from '../../src/ingest/segment/openapi';
import { openDatabase } from '../../src/open-database';
import { Lifecycle } from '../../src/ops/lifecycle';
import { createOpsApp } from '../../src/ops/ops-app';
import { createServices, type Services } from '../../src/services';
import { startTestApp, TEST_SERVICE_CONFIG, type TestApp } from '../helpers/test-app';

const silent = pino({ level: 'silent' });
const appConfig = { production: false, logLevel: 'silent' };

/** A fresh SQLite file of its own (these tests break their database on purpose). */
async function ownDatabase(): Promise<Services> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-ready-'));
  const db = await openDatabase(`sqlite:${path.join(dir, 'pigeon.sqlite')}`);
  return createServices(db, TEST_SERVICE_CONFIG, silent);
}

describe('GET /healthz and /readyz', () => {
  let t: TestApp;
  const extra: FastifyInstance[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const app of extra) await app.close();
    await t.close();
  });

  async function app(deps: Partial<Parameters<typeof createApp>[0]> = {}): Promise<FastifyInstance> {
    const created = await createApp({ services: t.services, config: appConfig, logger: silent, ...deps });
    extra.push(created);
    return created;
  }

  it('healthz answers 200 while the process is alive', async () => {
    const res = await t.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('readyz answers 200 when the database answers and every migration is applied', async () => {
    const res = await t.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('readyz needs running workers when the role has them, and not for the api role', async () => {
    const worker = t.worker();
    const all = await app({ role: 'all', worker });
    let res = await all.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'unavailable',
      reason: 'the send workers are not running (PIGEON_ROLE=all)',
    });

    worker.start();
    try {
      res = await all.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
    } finally {
      await worker.stop(1000);
    }
    res = await all.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);

    const missing = await app({ role: 'all' });
    expect((await missing.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);

    const api = await app({ role: 'api' });
    expect((await api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('readyz answers 503 "stopping" once shutdown began (SIGTERM), healthz still 200', async () => {
    const lifecycle = new Lifecycle();
    const api = await app({ role: 'api', lifecycle });
    expect((await api.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    lifecycle.beginStopping('SIGTERM');
    lifecycle.beginStopping('SIGINT'); // a second signal changes nothing
    const res = await api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'stopping', reason: 'the process is shutting down (SIGTERM)' });
    expect((await api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a worker-only process says "stopping" while its workers still run', async () => {
    const lifecycle = new Lifecycle();
    const worker = t.worker();
    const ops = await createOpsApp({
      db: t.db,
      metrics: t.services.metrics,
      openApi: buildOpenApiDocument,
      logger: silent,
      role: 'worker',
      worker,
      lifecycle,
    });
    extra.push(ops);
    worker.start();
    try {
      expect((await ops.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      lifecycle.beginStopping('SIGINT');
      const res = await ops.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'stopping', reason: 'the process is shutting down (SIGINT)' });
    } finally {
      await worker.stop(1000);
    }
    // stopping outranks every other reason (the workers have stopped by now)
    expect((await ops.inject({ method: 'GET', url: '/readyz' })).json().status).toBe('stopping');
    expect((await ops.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it('readyz answers 503 naming the pending migrations', async () => {
    const services = await ownDatabase();
    const dataSource = services.db.dataSource;
    try {
      await dataSource.undoLastMigration({ transaction: 'each' });
      const own = await createApp({ services, config: appConfig, logger: silent });
      const res = await own.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      const last = dataSource.migrations[dataSource.migrations.length - 1].name!;
      expect(res.json()).toEqual({
        status: 'unavailable',
        reason: `1 migration(s) pending: ${last}; run npm run migration:run or restart`,
      });
      await dataSource.runMigrations({ transaction: 'each' });
      expect((await own.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await own.close();
    } finally {
      await dataSource.destroy();
    }
  });

  it('readyz answers 503 when the database is gone, and healthz still 200', async () => {
    const services = await ownDatabase();
    const own = await createApp({ services, config: appConfig, logger: silent });
    try {
      await services.db.dataSource.destroy();
      const res = await own.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', reason: 'the database connection is closed' });
      expect((await own.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // metrics still answer (the queue gauges keep their last values)
      expect((await own.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('a worker-only process serves the operational routes on their own (PIGEON_OPS_PORT)', async () => {
    const worker = t.worker();
    const ops = await createOpsApp({
      db: t.db,
      metrics: t.services.metrics,
      openApi: buildOpenApiDocument,
      logger: silent,
      role: 'worker',
      worker,
    });
    extra.push(ops);
    expect((await ops.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // the same OpenAPI document as the API process serves
    const openapi = await ops.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(openapi.json()).toEqual((await t.inject({ method: 'GET', url: '/openapi.json' })).json());
    expect((await ops.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    worker.start();
    try {
      expect((await ops.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    } finally {
      await worker.stop(1000);
    }
    const metrics = await ops.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('pigeon_job_queue_depth');
    expect((await ops.inject({ method: 'POST', url: '/graphql' })).statusCode).toBe(404);
  });
});
