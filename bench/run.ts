/**
 * `npm run bench`: Pigeon's load benchmarks and their physical ceilings, measured in one run on
 * this machine, printed as one table (see bench/README.md).
 *
 *   npm run bench                         everything (MariaDB set, then the SQLite set)
 *   npm run bench -- --sqlite             only the SQLite set (raw better-sqlite3 ceiling, scenario 3)
 *   npm run bench -- --mariadb            only the MariaDB set
 *   npm run bench -- --only s1            one scenario (with the ceiling its ratio needs); a comma list works
 *   npm run bench -- --duration 10        seconds per load run (default 10)
 *   npm run bench -- --profile            run Pigeon under `node --cpu-prof` and print its hot functions
 *   npm run bench -- --no-build --keep    skip `npm run build`; keep the bench databases
 *
 * Every server, the load generator and each raw ceiling run as separate processes; everything
 * targets 127.0.0.1. All children are killed at the end, on error and on SIGINT.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import Database from 'better-sqlite3';
import type { LoadConfig, LoadKind, LoadResult } from './load/load-child';
import { KNOWN_USERS, PIPELINE_EVENT, identifyMessage, seedUser, trackMessage } from './lib/events';
import { MYSQL_EVENT_LOG, shapeOf } from './lib/schema';
import { summarizeProfile, type ProfileSummary } from './lib/cpuprofile';
import {
  BENCH,
  ROOT,
  CpuMeter,
  RssSampler,
  killAllNow,
  machineBusySeconds,
  mariadbPid,
  message,
  running,
  send,
  setLogDir,
  sleep,
  spawnNode,
  spawnTs,
  stop,
  stopAll,
  tail,
  waitForHttp,
  type Child,
} from './lib/proc';

// ---- options -------------------------------------------------------------------------------------

const CEILINGS = ['echo', 'naive', 'raw', 'batch-route', 'sqlite-raw'] as const;
const SCENARIOS = ['s1', 's2', 's3', 's4', 's5'] as const;
type StepName = (typeof CEILINGS)[number] | (typeof SCENARIOS)[number];
const MARIADB_SET: StepName[] = ['echo', 'naive', 'raw', 'batch-route', 's1', 's2', 's4', 's5'];
const SQLITE_SET: StepName[] = ['sqlite-raw', 's3'];
const NEEDS: Partial<Record<StepName, StepName[]>> = { s1: ['naive'], s2: ['raw', 'batch-route'], s3: ['sqlite-raw'] };

function parseArgs(argv: string[]) {
  const opts = {
    steps: [...MARIADB_SET, ...SQLITE_SET] as StepName[],
    full: true,
    durationS: 10,
    build: true,
    keep: false,
    profile: false,
    ceilings: true,
    workerConcurrency: undefined as number | undefined,
  };
  let only: StepName[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sqlite') {
      opts.steps = [...SQLITE_SET];
      opts.full = false;
    } else if (a === '--mariadb') {
      opts.steps = [...MARIADB_SET];
      opts.full = false;
    } else if (a === '--only') {
      only = value()
        .split(',')
        .map((s) => s.trim() as StepName);
      for (const s of only) {
        if (![...CEILINGS, ...SCENARIOS].includes(s))
          throw new Error(`--only: unknown "${s}" (one of ${[...CEILINGS, ...SCENARIOS].join(', ')})`);
      }
    } else if (a === '--duration') opts.durationS = Number(value());
    else if (a === '--no-build') opts.build = false;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--profile') opts.profile = true;
    else if (a === '--no-ceilings') opts.ceilings = false;
    else if (a === '--worker-concurrency') opts.workerConcurrency = Number(value());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('*/')[0] + '*/\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (only) {
    const wanted = new Set<StepName>(only);
    if (opts.ceilings) for (const s of only) for (const n of NEEDS[s] ?? []) wanted.add(n);
    opts.steps = [...MARIADB_SET, ...SQLITE_SET].filter((s) => wanted.has(s));
    opts.full = false;
  }
  if (!(opts.durationS > 0)) throw new Error('--duration must be a positive number of seconds');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const RUN = new Date().toISOString().replace(/[-:T]/g, '').replace(/\..*$/, '').slice(0, 14);
const TMP = path.join(os.tmpdir(), `pigeon-bench-${RUN}`);
const PIGEON_DB = `pigeon_bench_${RUN}`;
const CEILING_DB = `pigeon_bench_${RUN}_ceiling`;
const ADMIN_KEY = `bench_admin_${crypto.randomBytes(16).toString('hex')}`;
const INGEST_KEY = `bench_ingest_${crypto.randomBytes(16).toString('hex')}`;
const INGEST_AUTH = `Basic ${Buffer.from(`${INGEST_KEY}:`).toString('base64')}`;
const SEED_TOTAL = 1_000_000;
const SEED_NAMES = 50;
const SEED_USERS = 20_000;
const PIPELINE_EVENTS = 20_000;
/** Each pipeline set must be delivered within this (≥ 222 deliveries/s). */
const PIPELINE_TIMEOUT_S = 90;
const log = (s: string) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ---- what is measured ----------------------------------------------------------------------------

interface Measured {
  figure: number;
  unit: string;
  p50?: number;
  p99?: number;
  rows?: number;
  acked?: number;
  cpu?: Record<string, number>;
  detail?: unknown;
}

const measured: Record<string, Measured> = {};
const failures: Record<string, string> = {};
const notes: string[] = [];
const profiles: (ProfileSummary & { process: string })[] = [];
const rss = new RssSampler();
const startedAt = new Date();
let admin: mysql.Connection | undefined;
let maria: number | undefined;
let sqliteFile = '';
let machineInfo: Record<string, string | number> = {};

// ---- helpers -------------------------------------------------------------------------------------

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

let quietWaitedS = 0;
const QUIET_MAX_PER_RUN_S = 10;
const QUIET_MAX_TOTAL_S = 90;
const QUIET_CORE_PCT = 25;

/**
 * The machine is shared (other processes may run tests meanwhile): before a measured run, wait
 * (bounded) until the rest of the machine uses less than a quarter of one core, and say so.
 */
async function waitQuiet(name: string): Promise<number> {
  const t0 = performance.now();
  let busy = NaN;
  while ((performance.now() - t0) / 1000 < QUIET_MAX_PER_RUN_S && quietWaitedS < QUIET_MAX_TOTAL_S) {
    const b0 = machineBusySeconds();
    await sleep(500);
    busy = ((machineBusySeconds() - b0) / 0.5) * 100;
    if (busy < QUIET_CORE_PCT) break;
  }
  const waited = (performance.now() - t0) / 1000;
  quietWaitedS += Math.max(0, waited - 0.5);
  if (busy >= QUIET_CORE_PCT)
    log(`  ${name}: machine still busy (${Math.round(busy)}% of a core outside the bench); measuring anyway`);
  return Math.round(busy);
}

/** Runs one load generator process against `url` and measures CPU of it, `server` and MariaDB. */
async function loadRun(
  name: string,
  cfg: Omit<LoadConfig, 'durationS'> & { durationS?: number },
  server: number[],
): Promise<{ result: LoadResult; cpu: Record<string, number> }> {
  const config: LoadConfig = { durationS: opts.durationS, ...cfg };
  const child = spawnTs(`load-${name}`, 'load/load-child.ts', [JSON.stringify(config)]);
  try {
    await message(child, 'ready', 60_000);
    await waitQuiet(name);
    const meter = new CpuMeter({ gen: [child.pid], server, db: maria ? [maria] : [] });
    meter.begin();
    send(child, { type: 'go' });
    const { result } = await message<{ result: LoadResult }>(child, 'finished', (config.durationS + 60) * 1000);
    const cpu = meter.end();
    const dead = server.filter((pid) => !fs.existsSync(`/proc/${pid}`));
    if (dead.length) throw new Error(`the server (pid ${dead.join(', ')}) died during the ${name} run`);
    const r = result;
    log(
      `  ${name}: ${r.perSecond.toLocaleString('en-US')} req/s` +
        (r.eventsAcked !== r.ok ? `, ${r.eventsPerSecond.toLocaleString('en-US')} events/s` : '') +
        `, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, 2xx ${r.ok}, non-2xx ${r.non2xx}, errors ${r.errors}` +
        (r.graphqlErrors ? `, GraphQL errors ${r.graphqlErrors} (${r.firstError})` : '') +
        ` | CPU gen ${cpu.gen}% server ${cpu.server}% db ${cpu.db}% other ${cpu.other}%`,
    );
    if (r.non2xx || r.errors) log(`  ${name}: first error: ${r.firstError ?? JSON.stringify(r.statusCodes)}`);
    if (r.latency.max > 2000) {
      notes.push(
        `${name}: the slowest answer took ${(r.latency.max / 1000).toFixed(1)} s (p99 ${r.latency.p99} ms, ` +
          `${r.latency.n} answers; the slowest arrived at ${r.slowest.map((x) => `${x.atS} s`).join(', ')} of the run)`,
      );
    }
    return { result, cpu };
  } finally {
    await stop(child);
  }
}

/** Runs a raw (no HTTP) ceiling script with the same ready/go/finished protocol. */
async function rawRun(name: string, file: string, config: unknown, durationS: number) {
  const child = spawnTs(name, file, [JSON.stringify(config)]);
  try {
    await message(child, 'ready', 60_000);
    await waitQuiet(name);
    const meter = new CpuMeter({ gen: [child.pid], server: [], db: maria ? [maria] : [] });
    meter.begin();
    send(child, { type: 'go' });
    const { result } = await message<{ result: any }>(child, 'finished', (durationS + 60) * 1000);
    const cpu = meter.end();
    log(
      `  ${name}: ${result.eventsPerSecond.toLocaleString('en-US')} events/s in ${result.ok} transactions, ` +
        `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms | CPU script ${cpu.gen}% db ${cpu.db}% other ${cpu.other}%`,
    );
    return { result, cpu };
  } finally {
    await stop(child);
  }
}

async function countRows(db: string, prefix: string, workspaceId?: number): Promise<number> {
  const [rows] = await admin!.query<any[]>(
    `SELECT COUNT(*) AS n FROM \`${db}\`.inbound_events WHERE ${workspaceId ? 'workspace_id = ? AND ' : ''}message_id LIKE ?`,
    workspaceId ? [workspaceId, `${prefix}-%`] : [`${prefix}-%`],
  );
  return Number(rows[0].n);
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body: any = await res.json();
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data;
}

async function postBatches(url: string, batches: unknown[][], parallel = 4): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        const res = await fetch(`${url}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: INGEST_AUTH },
          body: JSON.stringify({ batch }),
        });
        const text = await res.text();
        if (res.status !== 200 || text.includes('rejected'))
          throw new Error(`batch: ${res.status} ${text.slice(0, 300)}`);
      }
    }),
  );
}

async function identifyKnownUsers(url: string, prefix: string): Promise<void> {
  const batches: unknown[][] = [];
  for (let u = 0; u < KNOWN_USERS; u += 100) {
    const batch = [];
    for (let k = u; k < Math.min(KNOWN_USERS, u + 100); k++) batch.push(identifyMessage(`${prefix}-${k}`, k));
    batches.push(batch);
  }
  await postBatches(url, batches);
}

interface Pigeon {
  child: Child;
  url: string;
}

async function startPigeon(
  name: string,
  databaseUrl: string,
  role: 'api' | 'worker' | 'all',
  extraEnv: Record<string, string> = {},
): Promise<Pigeon> {
  const port = role === 'worker' ? 0 : await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    PIGEON_ADMIN_KEY: ADMIN_KEY,
    PIGEON_INGEST_KEY: INGEST_KEY,
    PIGEON_SECRET: 'bench-secret-bench-secret-bench-secret',
    PIGEON_ROLE: role,
    PIGEON_RETRY_BASE_MS: '100',
    NODE_ENV: 'production',
    ...(opts.workerConcurrency ? { PIGEON_WORKER_CONCURRENCY: String(opts.workerConcurrency) } : {}),
    ...extraEnv,
  };
  const nodeArgs = opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(TMP, 'profiles')}`] : [];
  const child = spawnNode(name, 'dist/src/index.js', env, nodeArgs);
  void child.exited.then(() => {
    if (child.stopping) return;
    const msg = `${name} (pid ${child.pid}) died unexpectedly (${child.ended}); last log lines: ${tail(child, 10) || '(none)'}`;
    notes.push(msg);
    log(`WARNING: ${msg}`);
  });
  profileNames.set(child.pid, name);
  rss.watch(child.pid, name);
  const url = `http://127.0.0.1:${port}`;
  if (role !== 'worker') await waitForHttp(`${url}/healthz`, child, 60_000);
  return { child, url };
}
const profileNames = new Map<number, string>();

async function stopPigeon(p: Pigeon | undefined): Promise<void> {
  if (!p) return;
  await stop(p.child, 20_000);
  rss.unwatch(p.child.pid);
}

/** Fails the step when `ms` passes; its children are stopped by the caller. */
function timeBox<T>(name: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: time box of ${Math.round(ms / 1000)} s exceeded`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The whole run stops starting steps after this many seconds (it must end within 10 minutes). */
const RUN_BUDGET_S = 560;

async function step(name: string, budgetS: number, fn: () => Promise<void>): Promise<boolean> {
  const left = RUN_BUDGET_S - (Date.now() - startedAt.getTime()) / 1000;
  if (left < 15) {
    failures[name] = `skipped: the run's ${RUN_BUDGET_S} s budget is spent`;
    log(`${name} SKIPPED (run budget spent)`);
    return false;
  }
  log(`${name} …`);
  const t = performance.now();
  const before = new Set(running());
  try {
    await timeBox(name, Math.min(budgetS, left) * 1000, fn());
    log(`${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return true;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    failures[name] = msg;
    log(`${name} FAILED: ${msg}`);
    // whatever the step started and left running must not disturb the next steps
    await Promise.all(
      running()
        .filter((c) => !before.has(c))
        .map((c) => stop(c)),
    );
    return false;
  }
}

// ---- ceilings ------------------------------------------------------------------------------------

async function freshCeilingTable(): Promise<void> {
  await admin!.query(`DROP TABLE IF EXISTS \`${CEILING_DB}\`.inbound_events`);
  await admin!.query(`USE \`${CEILING_DB}\``);
  await admin!.query(MYSQL_EVENT_LOG);
}

async function httpCeiling(key: 'echo' | 'naive' | 'batch-route'): Promise<void> {
  if (key !== 'echo') await freshCeilingTable();
  const port = await freePort();
  const server = spawnTs(`ceiling-${key}`, 'ceilings/http-server.ts', [
    key === 'echo' ? 'echo' : 'insert',
    String(port),
    CEILING_DB,
  ]);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, server);
    const batch = key === 'batch-route';
    const prefix = `${key}-${RUN}`;
    const { result, cpu } = await loadRun(
      key,
      {
        url,
        path: batch ? '/v1/batch' : '/segment',
        kind: batch ? 'batch' : 'track',
        connections: 50,
        prefix,
        headers: {},
      },
      [server.pid],
    );
    const rows = key === 'echo' ? undefined : await countRows(CEILING_DB, prefix);
    measured[key] = {
      figure: batch ? result.eventsPerSecond : result.perSecond,
      unit: batch ? 'events/s' : 'req/s',
      p50: result.latency.p50,
      p99: result.latency.p99,
      rows,
      acked: key === 'echo' ? undefined : result.eventsAcked,
      cpu,
      detail: result,
    };
  } finally {
    await stop(server);
  }
}

async function rawCeiling(): Promise<void> {
  await freshCeilingTable();
  const prefix = `raw-${RUN}`;
  const { result, cpu } = await rawRun(
    'ceiling-raw',
    'ceilings/raw-insert.ts',
    { database: CEILING_DB, durationS: opts.durationS, connections: 4, batch: 100, prefix },
    opts.durationS,
  );
  const rows = await countRows(CEILING_DB, prefix);
  measured.raw = {
    figure: result.eventsPerSecond,
    unit: 'events/s',
    p50: result.latency.p50,
    p99: result.latency.p99,
    rows,
    acked: result.eventsAcked,
    cpu,
    detail: result,
  };
}

async function sqliteCeiling(): Promise<void> {
  const file = path.join(TMP, 'ceiling.sqlite');
  const { result, cpu } = await rawRun(
    'ceiling-sqlite-raw',
    'ceilings/sqlite-raw.ts',
    { file, durationS: opts.durationS, batch: 100, prefix: `sqlite-raw-${RUN}` },
    opts.durationS,
  );
  measured['sqlite-raw'] = {
    figure: result.eventsPerSecond,
    unit: 'events/s',
    p50: result.latency.p50,
    p99: result.latency.p99,
    rows: result.rows,
    acked: result.eventsAcked,
    cpu,
    detail: result,
  };
  notes.push(
    `SQLite ceiling ran with journal_mode=${result.journalMode}, synchronous=${result.synchronous} as read after its writes ` +
      `(2 = FULL: Pigeon sets synchronous=FULL, and so does the ceiling).`,
  );
}

// ---- Pigeon on MariaDB ---------------------------------------------------------------------------

let api: Pigeon | undefined;
let workspaceId = 0;

async function startPigeonMaria(): Promise<void> {
  await admin!.query(`CREATE DATABASE \`${PIGEON_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  api = await startPigeon('pigeon-api', `mariadb://root@127.0.0.1:3306/${PIGEON_DB}`, 'api');
  const [ws] = await admin!.query<any[]>(`SELECT id FROM \`${PIGEON_DB}\`.workspaces WHERE name = 'default'`);
  workspaceId = Number(ws[0].id);
  // the ceilings' copy of the event log must stay the shape Pigeon's migrations build
  const [[mine], [theirs]] = await Promise.all([
    admin!.query<any[]>(`SHOW CREATE TABLE \`${CEILING_DB}\`.inbound_events`).catch(() => [[]] as any),
    admin!.query<any[]>(`SHOW CREATE TABLE \`${PIGEON_DB}\`.inbound_events`),
  ]);
  if (mine?.[0] && theirs?.[0]) {
    const a = shapeOf(mine[0]['Create Table']).join('\n');
    const b = shapeOf(theirs[0]['Create Table']).join('\n');
    if (a !== b) {
      const msg = "the ceilings' inbound_events copy differs from Pigeon's migrated table (update bench/lib/schema.ts)";
      notes.push(msg);
      log(`WARNING: ${msg}\n--- bench copy\n${a}\n--- Pigeon\n${b}`);
    }
  }
  await identifyKnownUsers(api.url, `known-${RUN}`);
}

/**
 * One ingest load run against `server`, recorded as `key`: single tracks to `POST /segment` (req/s) or
 * 100-event batches to `POST /v1/batch` (events/s), c=50, then the rows stored under the run's prefix.
 */
async function ingestScenario(
  key: 's1' | 's2' | 's3',
  server: Pigeon,
  kind: 'track' | 'batch',
  countStored: (prefix: string) => Promise<number>,
): Promise<void> {
  const prefix = `${key}-${RUN}`;
  const { result, cpu } = await loadRun(
    key,
    {
      url: server.url,
      path: kind === 'track' ? '/segment' : '/v1/batch',
      kind,
      ...(kind === 'batch' ? { batchSize: 100 } : {}),
      connections: 50,
      prefix,
      headers: { authorization: INGEST_AUTH },
    },
    [server.child.pid],
  );
  measured[key] = {
    figure: kind === 'track' ? result.perSecond : result.eventsPerSecond,
    unit: kind === 'track' ? 'req/s' : 'events/s',
    p50: result.latency.p50,
    p99: result.latency.p99,
    rows: await countStored(prefix),
    acked: result.eventsAcked,
    cpu,
    detail: result,
  };
}

const scenario1 = () => ingestScenario('s1', api!, 'track', (prefix) => countRows(PIGEON_DB, prefix, workspaceId));
const scenario2 = () => ingestScenario('s2', api!, 'batch', (prefix) => countRows(PIGEON_DB, prefix, workspaceId));

async function scenario4(): Promise<void> {
  const [[{ n }]] = await admin!.query<any[]>(
    `SELECT COUNT(*) AS n FROM \`${PIGEON_DB}\`.inbound_events WHERE workspace_id = ?`,
    [workspaceId],
  );
  const toSeed = Math.max(0, SEED_TOTAL - Number(n));
  log(`  seeding ${toSeed.toLocaleString('en-US')} events (log holds ${Number(n).toLocaleString('en-US')})`);
  const seeder = spawnTs('seed', 'pigeon/seed-events.ts', [
    JSON.stringify({
      database: PIGEON_DB,
      workspaceId,
      count: toSeed,
      names: SEED_NAMES,
      users: SEED_USERS,
      connections: 4,
    }),
  ]);
  const { result: seed } = await message<{ result: any }>(seeder, 'finished', 300_000);
  await stop(seeder);
  log(`  seeded in ${seed.seconds} s (${seed.rowsPerSecond.toLocaleString('en-US')} rows/s)`);
  const [[{ total }]] = await admin!.query<any[]>(
    `SELECT COUNT(*) AS total FROM \`${PIGEON_DB}\`.inbound_events WHERE workspace_id = ?`,
    [workspaceId],
  );
  const headers = { authorization: `Bearer ${ADMIN_KEY}` };
  const base = { url: api!.url, path: '/graphql', connections: 20, prefix: '', headers };
  const runs: [string, LoadKind][] = [
    ['s4-name', 'gql-name'],
    ['s4-user', 'gql-user'],
    ['s4-paging', 'gql-paging'],
    ['s4-names', 'gql-event-names'],
  ];
  for (const [key, kind] of runs) {
    const { result, cpu } = await loadRun(
      key,
      {
        ...base,
        kind,
        names: seed.names,
        users: { prefix: seedUser(0).replace(/0$/, ''), count: SEED_USERS },
        pages: 20,
      },
      [api!.child.pid],
    );
    measured[key] = {
      figure: result.latency.p99,
      unit: 'ms p99',
      p50: result.latency.p50,
      p99: result.latency.p99,
      cpu,
      detail: { ...result, logSize: Number(total), seed },
    };
    if (result.graphqlErrors || result.non2xx || result.errors) {
      failures[key] = `${result.graphqlErrors} GraphQL errors, ${result.non2xx} non-2xx: ${result.firstError}`;
    }
  }
}

async function scenario5(): Promise<void> {
  const port = await freePort();
  const fake = spawnTs('webhook-fake', 'pigeon/webhook-fake.ts', [String(port)]);
  try {
    await message(fake, 'ready', 30_000);
    const fakeStats = async () => {
      const reply = message<any>(fake, 'stats', 5000);
      send(fake, { type: 'stats' });
      return reply;
    };
    const url = api!.url;
    await gql(url, `mutation($input: ProviderConfigInput!) { configureProvider(input: $input) { id } }`, {
      input: { channel: 'WEBHOOK', provider: 'webhook', config: { url: `http://127.0.0.1:${port}/hook` } },
    });
    const { createTemplate } = await gql(
      url,
      `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`,
      {
        input: {
          key: `bench-order-${RUN}`,
          name: 'Bench order',
          channels: ['WEBHOOK'],
          content: { webhook: { body: { n: '{{data.n}}' } } },
        },
      },
    );
    await gql(url, `mutation($id: ID!) { publishTemplate(id: $id) { id publishedVersion } }`, {
      id: createTemplate.id,
    });
    await gql(url, `mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }`, {
      n: `Segment-TrackEvent:${PIPELINE_EVENT}`,
      t: createTemplate.id,
    });

    for (const [set, workers] of [
      [1, 1],
      [2, 3],
    ] as const) {
      const key = `s5-${workers}`;
      // ingest the set through the api process (no worker runs yet)
      const batches: unknown[][] = [];
      for (let i = 0; i < PIPELINE_EVENTS; i += 100) {
        const batch = [];
        for (let k = i; k < i + 100; k++) {
          const m = trackMessage(`s5-${RUN}-${set}-${k}`, k % KNOWN_USERS, PIPELINE_EVENT);
          m.properties = { n: set * 1e6 + k, amount: k % 500 };
          batch.push(m);
        }
        batches.push(batch);
      }
      const t0 = performance.now();
      await postBatches(url, batches);
      const ingestS = (performance.now() - t0) / 1000;
      log(`  set ${set}: ${PIPELINE_EVENTS} mapped tracks ingested in ${ingestS.toFixed(2)} s`);
      send(fake, { type: 'expect', set, count: PIPELINE_EVENTS });
      await waitQuiet(key);

      const spawnAt = Date.now();
      const procs: Pigeon[] = [];
      for (let w = 0; w < workers; w++) {
        procs.push(
          await startPigeon(`pigeon-worker-${set}-${w + 1}`, `mariadb://root@127.0.0.1:3306/${PIGEON_DB}`, 'worker'),
        );
      }
      const meter = new CpuMeter({
        gen: [fake.pid],
        server: procs.map((p) => p.child.pid),
        db: maria ? [maria] : [],
      });
      meter.begin();
      const deadline = Date.now() + PIPELINE_TIMEOUT_S * 1000;
      let s: any;
      for (;;) {
        s = (await fakeStats()).sets[set];
        if (s?.completeAt || Date.now() > deadline) break;
        for (const p of procs) {
          if (p.child.proc.exitCode !== null) throw new Error(`${p.child.name} exited:\n${tail(p.child)}`);
        }
        await sleep(100);
      }
      const cpu = meter.end();
      await sleep(2000); // late doubles would show up here
      const final = await fakeStats();
      s = final.sets[set] ?? { distinct: 0, requests: 0, doubledByN: 0, doubledByKey: 0 };
      await Promise.all(procs.map((p) => stopPigeon(p)));
      const [statuses] = await admin!.query<any[]>(
        `SELECT status, COUNT(*) AS n FROM \`${PIGEON_DB}\`.messages GROUP BY status`,
      );
      const [[{ jobs }]] = await admin!.query<any[]>(`SELECT COUNT(*) AS jobs FROM \`${PIGEON_DB}\`.jobs`);
      const complete = Boolean(s.completeAt);
      const endAt = complete ? s.completeAt : Date.now();
      const fromSpawn = s.distinct / ((endAt - spawnAt) / 1000);
      const fromFirst = s.firstAt && endAt > s.firstAt ? s.distinct / ((endAt - s.firstAt) / 1000) : NaN;
      const lost = PIPELINE_EVENTS - s.distinct;
      const doubled = Math.max(s.doubledByN, s.doubledByKey);
      log(
        `  ${workers} worker(s): ${s.distinct}/${PIPELINE_EVENTS} delivered ${complete ? '' : '(INCOMPLETE) '}` +
          `in ${((endAt - spawnAt) / 1000).toFixed(2)} s from spawn (${Math.round(fromSpawn)}/s), ` +
          `${((endAt - s.firstAt) / 1000).toFixed(2)} s from the first delivery (${Math.round(fromFirst)}/s); ` +
          `lost ${lost}, doubled ${doubled}; CPU fake ${cpu.gen}% workers ${cpu.server}% db ${cpu.db}%`,
      );
      measured[key] = {
        figure: Math.round(fromSpawn),
        unit: 'deliveries/s',
        rows: s.distinct,
        acked: PIPELINE_EVENTS,
        cpu,
        detail: {
          workers,
          complete,
          delivered: s.distinct,
          requests: s.requests,
          lost,
          doubled,
          doubledByN: s.doubledByN,
          doubledByKey: s.doubledByKey,
          secondsFromSpawn: (endAt - spawnAt) / 1000,
          secondsFromFirstDelivery: (endAt - s.firstAt) / 1000,
          bootSeconds: (s.firstAt - spawnAt) / 1000,
          perSecondFromFirstDelivery: Math.round(fromFirst),
          ingestSeconds: ingestS,
          messageStatuses: Object.fromEntries(statuses.map((r: any) => [r.status, Number(r.n)])),
          jobsLeft: Number(jobs),
        },
      };
      if (!complete) {
        failures[key] = `only ${s.distinct} of ${PIPELINE_EVENTS} delivered within ${PIPELINE_TIMEOUT_S} s`;
        if (set === 1) notes.push('pipeline set 1 did not complete: its leftover jobs compete with set 2');
      }
    }
  } finally {
    await stop(fake);
  }
}

// ---- Pigeon on SQLite ----------------------------------------------------------------------------

async function scenario3(): Promise<void> {
  sqliteFile = path.join(TMP, 'pigeon.sqlite');
  const p = await startPigeon('pigeon-sqlite', `sqlite:${sqliteFile}`, 'all');
  try {
    await identifyKnownUsers(p.url, `known-sqlite-${RUN}`);
    await ingestScenario('s3', p, 'batch', async (prefix) => {
      const db = new Database(sqliteFile, { readonly: true });
      try {
        return Number(
          db
            .prepare('SELECT COUNT(*) FROM inbound_events WHERE substr(message_id, 1, ?) = ?')
            .pluck()
            .get(prefix.length + 1, `${prefix}-`),
        );
      } finally {
        db.close();
      }
    });
  } finally {
    await stopPigeon(p);
  }
}

// ---- the table -----------------------------------------------------------------------------------

interface Row {
  scenario: string;
  figure: string;
  unit: string;
  ceiling: string;
  ratio: string;
  target: string;
  met: string;
  p50: string;
  p99: string;
  rowsAcked: string;
  cpu: string;
}

/** Rows measured while the rest of the machine used more than this (% of one core) get a `*`. */
const NOISY_PCT = 25;

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function buildRows(): Row[] {
  const rows: Row[] = [];
  const cpuOf = (m?: Measured) =>
    m?.cpu ? `${fmt(m.cpu.gen)} / ${fmt(m.cpu.server)} / ${fmt(m.cpu.db)} / ${fmt(m.cpu.other)}` : '—';
  const rowsAcked = (m?: Measured) => {
    if (m?.rows === undefined || m.acked === undefined) return '—';
    const unanswered = (m.detail as LoadResult | undefined)?.unanswered;
    return (
      `${fmt(m.rows)} / ${fmt(m.acked)}${m.rows === m.acked ? ' ✓' : ' ✗'}` +
      (unanswered ? ` (${unanswered} requests unanswered 30 s after the run)` : '')
    );
  };
  const add = (
    key: string,
    scenario: string,
    o: {
      figure?: string;
      unit?: string;
      ceil?: [string, number | undefined];
      ratio?: number;
      target?: string;
      met?: boolean;
    } = {},
  ) => {
    const m = measured[key];
    const failed = failures[key];
    rows.push({
      scenario,
      figure:
        o.figure ??
        (m
          ? fmt(m.figure, m.unit.startsWith('ms') ? 1 : 0) + ((m.cpu?.other ?? 0) > NOISY_PCT ? ' *' : '')
          : failed
            ? failed.startsWith('skipped')
              ? 'skipped'
              : 'failed'
            : 'not run'),
      unit: o.unit ?? m?.unit ?? '',
      ceiling: o.ceil ? `${fmt(o.ceil[1])} (${o.ceil[0]})` : '—',
      ratio: o.ratio === undefined || !Number.isFinite(o.ratio) ? '—' : `${o.ratio.toFixed(2)}×`,
      target: o.target ?? '—',
      met: o.met === undefined ? '—' : o.met ? 'yes' : 'NO',
      p50: m?.p50 !== undefined ? fmt(m.p50, 1) : '—',
      p99: m?.p99 !== undefined ? fmt(m.p99, 1) : '—',
      rowsAcked: rowsAcked(m),
      cpu: cpuOf(m),
    });
  };
  const ratio = (a?: Measured, b?: Measured) => (a && b ? a.figure / b.figure : undefined);
  const has = (k: string) => measured[k] !== undefined || failures[k] !== undefined;

  if (has('echo')) add('echo', 'C1 echo (bare Fastify, c=50)');
  if (has('naive')) add('naive', 'C2 naive insert (1 INSERT/request, pool 10, c=50)');
  if (has('raw')) add('raw', 'C3 raw multi-row insert (100 rows, 4 conns)');
  if (has('batch-route')) add('batch-route', 'C4 bare batch route (100 events/request, c=50)');
  if (has('sqlite-raw')) add('sqlite-raw', 'C5 raw better-sqlite3 (100-row transactions)');
  if (has('s1')) {
    const r = ratio(measured.s1, measured.naive);
    add('s1', '1 single-event ingest POST /segment (c=50)', {
      ceil: ['naive', measured.naive?.figure],
      ratio: r,
      target: '≥ 1.0×',
      met: r === undefined ? undefined : r >= 1,
    });
    const m = measured.s1;
    rows.push({
      ...rows[rows.length - 1],
      scenario: '1 single-event ingest, p99 latency',
      figure: m ? fmt(m.p99, 1) + ((m.cpu?.other ?? 0) > NOISY_PCT ? ' *' : '') : '—',
      unit: 'ms',
      ceiling: measured.naive ? `${fmt(measured.naive.p99, 1)} (naive p99)` : '—',
      ratio: '—',
      target: '≤ 25 ms',
      met: m ? (m.p99! <= 25 ? 'yes' : 'NO') : '—',
    });
  }
  if (has('s2')) {
    const r = ratio(measured.s2, measured.raw);
    add('s2', '2 batch ingest POST /v1/batch (100 mixed, c=50)', {
      ceil: ['raw multi-row', measured.raw?.figure],
      ratio: r,
      target: '≥ 0.5×',
      met: r === undefined ? undefined : r >= 0.5,
    });
  }
  if (has('s3')) {
    const r = ratio(measured.s3, measured['sqlite-raw']);
    add('s3', '3 embedded: batch ingest on SQLite (c=50)', {
      ceil: ['raw better-sqlite3', measured['sqlite-raw']?.figure],
      ratio: r,
      target: '≥ 0.5×',
      met: r === undefined ? undefined : r >= 0.5,
    });
  }
  const gqlTarget = (k: string, label: string, limit: number) => {
    if (!has(k) && !has('s4')) return;
    const m = measured[k];
    add(k, label, { target: `p99 ≤ ${limit} ms`, met: m && !failures[k] ? m.figure <= limit : m ? false : undefined });
  };
  gqlTarget('s4-name', '4 GraphQL events(first 50, filter name), c=20, 1M log', 20);
  gqlTarget('s4-user', '4 GraphQL events(first 50, filter userId), c=20', 20);
  gqlTarget('s4-paging', '4 GraphQL events paging 20 pages with after, c=20', 20);
  gqlTarget('s4-names', '4 GraphQL eventNames, c=20', 50);
  if (has('s5-1') || has('s5') || has('s5-3')) {
    const one = measured['s5-1'];
    const three = measured['s5-3'];
    add('s5-1', '5 pipeline 20k mapped tracks → webhook, 1 worker', {
      target: '≥ 2,000/s',
      met: one ? one.figure >= 2000 && (one.detail as any).complete : undefined,
    });
    const r = ratio(three, one);
    add('s5-3', '5 pipeline, 3 worker processes', {
      ceil: ['1 worker', one?.figure],
      ratio: r,
      target: '≥ 2.5×',
      met: r === undefined ? undefined : r >= 2.5 && (three!.detail as any).complete,
    });
    const lost = [one, three].reduce((s, m) => s + ((m?.detail as any)?.lost ?? 0), 0);
    const doubled = [one, three].reduce((s, m) => s + ((m?.detail as any)?.doubled ?? 0), 0);
    rows.push({
      scenario: '5 pipeline lost / doubled deliveries (both runs)',
      figure: one || three ? `${lost} / ${doubled}` : '—',
      unit: 'deliveries',
      ceiling: '—',
      ratio: '—',
      target: '0 / 0',
      met: one || three ? (lost === 0 && doubled === 0 ? 'yes' : 'NO') : '—',
      p50: '—',
      p99: '—',
      rowsAcked: '—',
      cpu: '—',
    });
  }
  const top = rss.overall;
  if (top.mb > 0) {
    rows.push({
      scenario: `6 max server RSS, scenarios 1–5 (${top.label})`,
      figure: fmt(top.mb),
      unit: 'MB',
      ceiling: '—',
      ratio: '—',
      target: '≤ 300 MB',
      met: top.mb <= 300 ? 'yes' : 'NO',
      p50: '—',
      p99: '—',
      rowsAcked: '—',
      cpu: '—',
    });
  }
  return rows;
}

const HEAD: [keyof Row, string][] = [
  ['scenario', 'scenario'],
  ['figure', 'figure'],
  ['unit', 'unit'],
  ['ceiling', 'ceiling'],
  ['ratio', 'ratio'],
  ['target', 'target'],
  ['met', 'met?'],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['rowsAcked', 'rows / acked'],
  ['cpu', 'CPU % gen / server / db / other'],
];

function textTable(rows: Row[]): string {
  const widths = HEAD.map(([k, h]) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    line(HEAD.map(([, h]) => h)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(HEAD.map(([k]) => r[k]))),
  ].join('\n');
}

function markdownTable(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${HEAD.map(([, h]) => h).join(' | ')} |`,
    `| ${HEAD.map((_, i) => (i === 0 ? '---' : '--:')).join(' | ')} |`,
    ...rows.map((r) => `| ${HEAD.map(([k]) => esc(r[k])).join(' | ')} |`),
  ].join('\n');
}

async function machine(): Promise<Record<string, string | number>> {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  let mariadb = 'unknown';
  try {
    const [[row]] = await admin!.query<any[]>('SELECT VERSION() AS v');
    mariadb = row.v;
  } catch {
    // not reachable
  }
  const sqlite = new Database(':memory:');
  const sqliteVersion = String(sqlite.prepare('SELECT sqlite_version()').pluck().get());
  sqlite.close();
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: os.cpus().length,
    ramGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    mariadb,
    node: process.version,
    sqlite: sqliteVersion,
    kernel: `${os.type()} ${os.release()}`,
  };
}

// ---- main ----------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    rss.stop();
    await stopAll(5000);
    if (admin && !opts.keep) {
      for (const db of [PIGEON_DB, CEILING_DB]) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    }
    await admin?.end().catch(() => {});
    admin = undefined;
    if (!opts.keep) {
      for (const f of fs.existsSync(TMP) ? fs.readdirSync(TMP) : []) {
        if (f.includes('sqlite')) fs.rmSync(path.join(TMP, f), { force: true });
      }
    }
  })();
  return cleaning;
}

process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping every child process`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  fs.mkdirSync(TMP, { recursive: true });
  setLogDir(path.join(TMP, 'logs'));
  log(`run ${RUN}: ${opts.steps.join(', ')} · ${opts.durationS} s per load run · logs in ${TMP}/logs`);
  if (opts.build) {
    log('npm run build …');
    const b = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed:\n${b.stdout}${b.stderr}`);
  }
  maria = mariadbPid();
  const wantsMaria = opts.steps.some((s) => MARIADB_SET.includes(s));
  admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', multipleStatements: false });
  machineInfo = await machine();
  if (wantsMaria) {
    if (!maria) notes.push('mariadbd pid not found: database CPU is not reported');
    await admin.query(`CREATE DATABASE \`${CEILING_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  }
  const d = opts.durationS;
  const want = (s: StepName) => opts.steps.includes(s);

  if (want('echo')) await step('echo', d + 60, () => httpCeiling('echo'));
  if (want('naive')) await step('naive', d + 60, () => httpCeiling('naive'));
  if (want('raw')) await step('raw', d + 60, rawCeiling);
  if (want('batch-route')) await step('batch-route', d + 60, () => httpCeiling('batch-route'));

  const pigeonMaria = (['s1', 's2', 's4', 's5'] as StepName[]).filter(want);
  if (pigeonMaria.length) {
    rss.start(250);
    if (await step('pigeon (MariaDB) start + identify', 120, startPigeonMaria)) {
      if (want('s1')) await step('s1', d + 60, scenario1);
      if (want('s2')) await step('s2', d + 60, scenario2);
      if (want('s4')) await step('s4', 300 + 4 * (d + 40), scenario4);
      if (want('s5')) await step('s5', 2 * PIPELINE_TIMEOUT_S + 120, scenario5);
    }
    await stopPigeon(api);
  }
  if (want('sqlite-raw')) await step('sqlite-raw', d + 60, sqliteCeiling);
  if (want('s3')) {
    rss.start(250);
    await step('s3', d + 120, scenario3);
  }
  rss.stop();
  rss.sample();
}

async function report(): Promise<void> {
  const rows = buildRows();
  const table = textTable(rows);
  const m = machineInfo;
  process.stdout.write(`\n${table}\n\n`);
  process.stdout.write(
    'figure: median over the seconds of the run of 2xx answers (or events) per second; ms = per-response latency (p50/p99 exact);\n' +
      'rows / acked: rows found in the database after the run vs events acknowledged with 2xx (deliveries at the fake for 5);\n' +
      'CPU: % of one core over the run, for the load generator (the fake for 5), the server (the workers for 5), mariadbd,\n' +
      'and everything else the machine ran meanwhile (other: noise from processes outside the bench).\n' +
      `*: measured while the rest of the machine used more than ${NOISY_PCT}% of a core (see other).\n`,
  );
  for (const [k, v] of Object.entries(failures)) process.stdout.write(`FAILED ${k}: ${v}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);

  if (opts.profile) {
    const dir = path.join(TMP, 'profiles');
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(f)?.[1]);
      try {
        const summary = summarizeProfile(path.join(dir, f), 25);
        profiles.push({ ...summary, process: profileNames.get(pid) ?? f });
      } catch (err) {
        log(`could not read profile ${f}: ${(err as Error).message}`);
      }
    }
    for (const p of profiles) {
      process.stdout.write(
        `\nCPU profile of ${p.process} (${p.file}): idle ${p.idlePct}%; self time of the busy samples:\n`,
      );
      process.stdout.write(`  by area: ${p.areas.map((a) => `${a.area} ${a.selfPct}%`).join(', ')}\n`);
      for (const f of p.functions) process.stdout.write(`  ${String(f.selfPct).padStart(5)}%  ${f.fn}  ${f.where}\n`);
    }
  }

  const json = {
    run: RUN,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    options: opts,
    machine: m,
    measured,
    failures,
    notes,
    quietWaitedSeconds: Math.round(quietWaitedS),
    memory: { maxRssMbByProcess: Object.fromEntries(rss.max), samples: rss.samples },
    profiles,
    table: rows,
  };
  const prettier = await import('prettier');
  const out = await prettier.format(JSON.stringify(json), { parser: 'json' });
  const file = opts.full ? path.join(BENCH, 'results', 'latest.json') : path.join(TMP, 'results.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, out);
  log(`raw results: ${path.relative(process.cwd(), file) || file}`);

  if (opts.full) {
    const readme = path.join(BENCH, 'README.md');
    const text = fs.readFileSync(readme, 'utf8');
    const block = [
      '<!-- results:start -->',
      `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench\` (${opts.durationS} s per load run, whole run ${json.seconds} s) on:`,
      `${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM · MariaDB ${m.mariadb} (default settings) · Node ${m.node} · SQLite ${m.sqlite} · ${m.kernel}`,
      '',
      markdownTable(rows),
      '',
      ...(rows.some((r) => r.figure.endsWith('*'))
        ? [`\\* measured while the rest of the machine used more than ${NOISY_PCT}% of a core (column _other_).`, '']
        : []),
      ...Object.entries(failures).map(([k, v]) => `- **failed** ${k}: ${v.split('\n')[0]}`),
      ...notes.map((n) => `- ${n}`),
      '<!-- results:end -->',
    ].join('\n');
    const updated = text.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, block);
    fs.writeFileSync(readme, await prettier.format(updated, { parser: 'markdown', proseWrap: 'preserve' }));
    log('bench/README.md updated');
  }
}

main()
  .catch((err) => {
    failures.run = err instanceof Error ? err.message : String(err);
    log(`run FAILED: ${failures.run}`);
  })
  .then(() => cleanup())
  .then(() => report())
  .catch((err) => log(`report failed: ${err?.stack ?? err}`))
  .finally(() => process.exit(Object.keys(failures).length ? 1 : 0));
