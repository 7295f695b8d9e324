import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';

/**
 * Shared machinery of the fault suite (`npm run test:faults`): fresh MariaDB databases, the compiled
 * server and CLI as child processes, and the one line of figures each scenario prints.
 */
export const ROOT = path.resolve(__dirname, '../..');
export const SERVER = path.join(ROOT, 'dist/src/index.js');
export const CLI = path.join(ROOT, 'dist/src/cli/pigeon.js');

/** The MariaDB server the suite creates its databases on (root, empty password by default). */
export const MARIADB_URL = process.env.PIGEON_FAULTS_MARIADB ?? 'mariadb://root@127.0.0.1:3306';

/** Where the figures of the last run are collected (one line per scenario), for docs/guarantees.md. */
export const FIGURES_FILE = path.join(ROOT, 'dist', 'fault-figures.txt');

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints a scenario's figures (one line) and keeps them in {@link FIGURES_FILE}. */
export function report(scenario: string, figures: string): void {
  const line = `FAULT ${scenario}: ${figures}`;
  console.log(line);
  fs.mkdirSync(path.dirname(FIGURES_FILE), { recursive: true });
  fs.appendFileSync(FIGURES_FILE, `${new Date().toISOString()} ${line}\n`);
}

function connectionOptions(database?: string): mysql.ConnectionOptions {
  const url = new URL(MARIADB_URL);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  };
}

/** A connection without a default database (so it never shows up as one of a server's connections). */
export function adminConnection(): Promise<mysql.Connection> {
  return mysql.createConnection(connectionOptions());
}

export interface FreshDatabase {
  name: string;
  /** DATABASE_URL for the server and the CLI. */
  url: string;
  /** Runs SQL on this database (a connection of its own, opened on first use). */
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Closes the connection and drops the database. */
  drop(): Promise<void>;
}

/** A new, empty database for one scenario (migrations run when a server or the CLI first opens it). */
export async function freshDatabase(tag: string): Promise<FreshDatabase> {
  const name = `pigeon_fault_${tag}_${Date.now()}_${process.pid}`.replace(/[^A-Za-z0-9_]/g, '_');
  const admin = await adminConnection();
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  let conn: mysql.Connection | undefined;
  const base = new URL(MARIADB_URL);
  base.pathname = `/${name}`;
  return {
    name,
    url: base.toString(),
    async query<T>(sql: string, params: unknown[] = []) {
      conn ??= await mysql.createConnection(connectionOptions(name));
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    },
    async drop() {
      await conn?.end().catch(() => undefined);
      const a = await adminConnection();
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** The compiled `pigeon` CLI (the package `bin`) on `databaseUrl`. */
export function cli(databaseUrl: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`pigeon ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout),
    );
  });
}

export interface Workspace {
  workspace: string;
  adminKey: string;
  ingestKey: string;
}

/** `pigeon workspace create <name> --json` */
export async function createWorkspace(databaseUrl: string, name: string): Promise<Workspace> {
  return JSON.parse(await cli(databaseUrl, 'workspace', 'create', name, '--json'));
}

export interface ServerOptions {
  databaseUrl: string;
  role: 'api' | 'worker' | 'all';
  env?: Record<string, string>;
}

/** `node dist/src/index.js` as a child process, ready to serve (api/all) or to work (worker). */
export class ServerProcess {
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly base: string,
    readonly role: ServerOptions['role'],
  ) {
    const keep = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > 400_000) this.out = this.out.slice(-200_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [SERVER], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: options.databaseUrl,
        PIGEON_ROLE: options.role,
        PIGEON_SECRET: 'fault-suite-secret',
        LOG_LEVEL: options.role === 'worker' ? 'info' : 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, options.role);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (!server.running) throw new Error(`the ${options.role} server exited at start:\n${server.output}`);
      if (options.role === 'worker') {
        if (server.output.includes('worker started')) return server;
      } else {
        try {
          if ((await fetch(`${server.base}/healthz`)).ok) return server;
        } catch {
          // not listening yet
        }
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
    throw new Error(`the ${options.role} server did not start within 60 s:\n${server.output}`);
  }

  /** Sends `signal` and resolves with how the process ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** A GraphQL call to a running server; throws on errors. */
export async function gql<T = any>(
  base: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data as T;
}

export function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** POSTs JSON to an ingest route. */
export function ingest(base: string, key: string, route: string, body: unknown, timeoutMs = 10_000): Promise<Response> {
  return fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(key) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/** Waits until `check` returns true, polling; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * Makes a workspace ready to queue webhook messages: a webhook provider to `url`, a published template
 * with webhook content (the default body `{event, userId, data, messageId}`), and the track name
 * `Segment-TrackEvent:<event>` mapped to it. Returns the template id.
 */
export async function setUpWebhookSending(base: string, adminKey: string, url: string, event: string): Promise<string> {
  await gql(base, adminKey, 'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id } }', {
    i: { channel: 'WEBHOOK', provider: 'webhook', config: { url, timeoutMs: 10_000 } },
  });
  const { createTemplate } = await gql(
    base,
    adminKey,
    'mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }',
    {
      i: { key: `fault-${event}`, name: event, channels: ['WEBHOOK'], content: { webhook: {} } },
    },
  );
  await gql(base, adminKey, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: createTemplate.id });
  await gql(
    base,
    adminKey,
    'mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }',
    {
      n: `Segment-TrackEvent:${event}`,
      t: createTemplate.id,
    },
  );
  return createTemplate.id;
}

/** Queues `count` messages: mapped tracks in batches of up to 2,500 (one message each). */
export async function queueMessages(base: string, ingestKey: string, event: string, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 2500) {
    const n = Math.min(2500, count - sent);
    const batch = Array.from({ length: n }, (_, i) => ({
      type: 'track',
      userId: `u-${sent + i}`,
      event,
      properties: { n: sent + i },
    }));
    const res = await ingest(base, ingestKey, '/v1/batch', { batch }, 120_000);
    if (res.status !== 200) throw new Error(`batch: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { rejected?: unknown[] };
    if (body.rejected) throw new Error(`batch items rejected: ${JSON.stringify(body.rejected).slice(0, 500)}`);
  }
}

/** What a dispatch scenario keeps between its set-up, its test and its clean-up. */
export interface DispatchScene {
  /** A fresh database, created before the test. */
  readonly db: FreshDatabase;
  /** Every server process the test starts: killed after it. */
  readonly servers: ServerProcess[];
  /** The webhook fake the test starts: closed after it. */
  fake?: { close(): Promise<void> };
}

/**
 * The `beforeAll`/`afterAll` the dispatch scenarios share: a fresh database `tag` before; after —
 * whatever the test got to — its server processes killed, its webhook fake closed, the database dropped.
 */
export function dispatchScene(tag: string): DispatchScene {
  let db: FreshDatabase | undefined;
  const scene: DispatchScene = {
    get db() {
      if (!db) throw new Error(`the database of "${tag}" is not created yet`);
      return db;
    },
    servers: [],
  };
  beforeAll(async () => {
    db = await freshDatabase(tag);
  });
  afterAll(async () => {
    for (const s of scene.servers) await s.stop('SIGKILL');
    await scene.fake?.close();
    await db?.drop();
  });
  return scene;
}

export interface QueuedWebhookMessages {
  /** The workspace the messages are queued in (created with the CLI). */
  ws: Workspace;
  /** The process they were queued through; still running. */
  server: ServerProcess;
}

/**
 * The set-up the dispatch scenarios share: a workspace `workspace` (CLI), a server process of `role`
 * (default `api`, which never sends), webhook sending to `${fake.url}/hook` for the track `event`
 * ({@link setUpWebhookSending}), and `count` mapped tracks through its ingest route ({@link queueMessages}).
 * The server is pushed onto `servers` as soon as it runs, so the scenario's `afterAll` stops it even
 * when a later step fails.
 */
export async function queueWebhookMessages(options: {
  db: FreshDatabase;
  workspace: string;
  fake: { url: string };
  event: string;
  count: number;
  servers: ServerProcess[];
  role?: ServerOptions['role'];
  env?: Record<string, string>;
}): Promise<QueuedWebhookMessages> {
  const ws = await createWorkspace(options.db.url, options.workspace);
  const server = await ServerProcess.start({
    databaseUrl: options.db.url,
    role: options.role ?? 'api',
    env: options.env,
  });
  options.servers.push(server);
  await setUpWebhookSending(server.base, ws.adminKey, `${options.fake.url}/hook`, options.event);
  await queueMessages(server.base, ws.ingestKey, options.event, options.count);
  return { ws, server };
}

/** Message counts by status in one workspace. */
export async function messageStatuses(db: FreshDatabase, workspace: string): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number | string }>(
    `SELECT m.status, COUNT(*) AS n FROM messages m JOIN workspaces w ON w.id = m.workspace_id
     WHERE w.name = ? GROUP BY m.status`,
    [workspace],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** A webhook provider to `url` (the default body `{event, userId, data, messageId}` when a template has none). */
export async function configureWebhookProvider(base: string, adminKey: string, url: string): Promise<void> {
  await gql(base, adminKey, 'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id } }', {
    i: { channel: 'WEBHOOK', provider: 'webhook', config: { url, timeoutMs: 10_000 } },
  });
}

/** A published webhook template `key` with webhook content (the provider's default body). Returns its id. */
export async function publishWebhookTemplate(base: string, adminKey: string, key: string): Promise<string> {
  const { createTemplate } = await gql(
    base,
    adminKey,
    'mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }',
    { i: { key, name: key, channels: ['WEBHOOK'], content: { webhook: {} } } },
  );
  await gql(base, adminKey, 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', { id: createTemplate.id });
  return createTemplate.id;
}

/**
 * A published workflow (`input`: README "Workflows", e.g. `{key, name, steps, cancelKeyPath}`), with the
 * track `Segment-TrackEvent:<event>` mapped to it when `event` is given. Returns its id.
 */
export async function publishWorkflow(
  base: string,
  adminKey: string,
  input: Record<string, unknown>,
  event?: string,
): Promise<string> {
  const { createWorkflow } = await gql(
    base,
    adminKey,
    'mutation($i: WorkflowInput!) { createWorkflow(input: $i) { id } }',
    { i: input },
  );
  await gql(base, adminKey, 'mutation($id: ID!) { publishWorkflow(id: $id) { id } }', { id: createWorkflow.id });
  if (event !== undefined)
    await gql(
      base,
      adminKey,
      'mutation($n: String!, $w: ID!) { mapEvent(eventName: $n, workflowId: $w) { eventName } }',
      {
        n: `Segment-TrackEvent:${event}`,
        w: createWorkflow.id,
      },
    );
  return createWorkflow.id;
}

/** Workflow run counts by status in one workspace. */
export async function runStatuses(db: FreshDatabase, workspace: string): Promise<Record<string, number>> {
  const rows = await db.query<{ status: string; n: number | string }>(
    `SELECT r.status, COUNT(*) AS n FROM workflow_runs r JOIN workspaces w ON w.id = r.workspace_id
     WHERE w.name = ? GROUP BY r.status`,
    [workspace],
  );
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
