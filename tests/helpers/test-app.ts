import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createApp } from '../../src/app';
import type { Database } from '../../src/db/database';
import { openDatabase } from '../../src/open-database';
import { Worker } from '../../src/pipeline/worker';
import { createServices, type ServiceConfig, type Services } from '../../src/services';
import pino from 'pino';

export interface GraphQLResult<T = Record<string, any>> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown>; path?: string[] }[];
}

export interface TestWorkspace {
  name: string;
  workspaceId: number;
  adminKey: string;
  ingestKey: string;
}

/** The real app on the test database (SQLite temp file, or DATABASE_URL), with helpers. */
export interface TestApp {
  app: FastifyInstance;
  db: Database;
  services: Services;
  /** A fresh workspace of this test file. */
  ws: TestWorkspace;
  newWorkspace(): Promise<TestWorkspace>;
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GraphQLResult<T>>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** POST a JSON body with Basic auth of the workspace's ingest key. */
  send(url: string, body: unknown, key?: string): Promise<LightMyRequestResponse>;
  /** A worker on this app's queue (not started: call `drain()` to run due jobs). */
  worker(options?: { leaseMs?: number; id?: string }): Worker;
  close(): Promise<void>;
}

export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url && !url.startsWith('sqlite:')) return url;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-test-'));
  return `sqlite:${path.join(dir, 'pigeon.sqlite')}`;
}

export const isMysql = () => Boolean(process.env.DATABASE_URL && !process.env.DATABASE_URL.startsWith('sqlite:'));

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** Test defaults: fast retries, so backoff paths run in milliseconds. */
export const TEST_SERVICE_CONFIG: ServiceConfig = { secret: 'test-secret', retryAttempts: 3, retryBaseMs: 5 };

export async function startTestApp(config: Partial<ServiceConfig> = {}): Promise<TestApp> {
  const url = testDatabaseUrl();
  const db = await openDatabase(url, { migrate: !isMysql() });
  const services = createServices(db, { ...TEST_SERVICE_CONFIG, ...config }, pino({ level: 'silent' }));
  const app = await createApp({ services, config: { production: false, logLevel: 'silent' } });
  await app.ready();

  // workers of this test file only take jobs of its own workspaces: files share one MySQL database
  const workspaceIds: number[] = [];
  const newWorkspace = async (): Promise<TestWorkspace> => {
    const name = `t-${randomUUID().slice(0, 12)}`;
    const created = await services.workspaces.createWorkspace(name);
    workspaceIds.push(created.workspace.id);
    return {
      name,
      workspaceId: created.workspace.id,
      adminKey: created.admin.secret,
      ingestKey: created.ingest.secret,
    };
  };
  const ws = await newWorkspace();
  /** Every worker made by `worker()`: `close()` stops those still running. */
  const workers: Worker[] = [];

  const t: TestApp = {
    app,
    db,
    services,
    ws,
    newWorkspace,
    inject: (options) => app.inject(options),
    async gql(query, variables = {}, key = ws.adminKey) {
      const res = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        payload: JSON.stringify({ query, variables }),
      });
      return res.json();
    },
    send(url, body, key = ws.ingestKey) {
      return app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: basic(key) },
        payload: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    worker(options = {}) {
      const worker = new Worker(
        services.queue,
        services.pipeline,
        { concurrency: 8, leaseMs: options.leaseMs ?? 30_000, pollMs: 20, id: options.id, workspaceIds },
        pino({ level: 'silent' }),
        services.runner,
        services.callbacks,
      );
      workers.push(worker);
      return worker;
    },
    async close() {
      // a worker a failed test left running would poll forever (its timers keep the Jest worker process
      // alive: "A worker process has failed to exit gracefully"); stopped here, before the database closes
      await Promise.all(workers.map((w) => w.stop(1000)));
      await app.close();
      if (db.dataSource.isInitialized) await db.dataSource.destroy();
    },
  };
  return t;
}

export const FIXTURES = path.resolve(__dirname, '../fixtures');

/** A Segment fixture from tests/fixtures with a fresh messageId, so tests never collide. */
export function fixture(name: string, overrides: Record<string, unknown> = {}): Record<string, any> {
  const body = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));
  if (body.messageId) body.messageId = `${body.messageId}-${randomUUID()}`;
  return { ...body, ...overrides };
}

export function uid(prefix = 'u'): string {
  return `${prefix}-${randomUUID()}`;
}

/** The data of a successful GraphQL call; fails the test with the errors otherwise. */
export function ok<T = any>(res: GraphQLResult): T {
  expect(res.errors).toBeUndefined();
  return res.data as T;
}

/** The first error of a failed GraphQL call, after checking its code (and message, when given). */
export function failed(res: GraphQLResult, code: string, message?: string | RegExp) {
  expect(res.errors).toBeDefined();
  const error = res.errors![0];
  const expected =
    message === undefined ? expect.any(String) : typeof message === 'string' ? message : expect.stringMatching(message);
  expect({ code: error.extensions?.code, message: error.message }).toEqual({ code, message: expected });
  return error;
}
