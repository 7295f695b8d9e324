/**
 * Event-log retention at scale: Pigeon's chunked DELETE (EventRetentionService, run as it is) against
 * `ALTER TABLE … DROP PARTITION` on a copy of `inbound_events` range-partitioned by day, each on a
 * table of `--rows` events spread over 30 days, each while a steady insert load runs beside it.
 *
 *   npm run bench:retention                       # 5,000,000 rows, about 20 min on 2 busy cores
 *   npm run bench:retention -- --rows 200000      # a quick run while developing
 *
 * Options: --rows N (default 5,000,000), --insert-rate R (events/s offered by the concurrent inserters,
 * default 4,000; 0 = as fast as they go), --inserters N (default 4), --baseline S (seconds of insert load
 * measured before each operation, default 15), --max-delete S (stop the DELETE after S seconds and extrapolate,
 * default 420, so a slow disk cannot push the run past ~20 min), --keep (keep the database).
 *
 * Needs MariaDB (10.11 tested; MySQL 8 untested) on 127.0.0.1:3306, user root without a password, `local_infile` on. It creates
 * `pigeon_scaling_retention`, builds Pigeon's schema with Pigeon's migrations, and drops it at the end.
 * Prints a markdown table and writes bench/results/retention-<date>.json. See docs/scaling.md.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mysql from 'mysql2/promise';
import { openDatabase } from '../../src/open-database';
import { EventRetentionService } from '../../src/domain/event-log/retention.service';
import { latency, type Latency } from '../lib/stats';
import { CpuMeter, mariadbPid } from '../lib/proc';

const DB = 'pigeon_scaling_retention';
const SERVER = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
const DAY_MS = 24 * 60 * 60 * 1000;
const DAYS = 30;
const DROP_DAYS = 7;
const PLAIN = 'inbound_events';
const PARTED = 'inbound_events_by_day';
const ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------------------------------------- options

interface Options {
  rows: number;
  insertRate: number;
  inserters: number;
  baselineS: number;
  maxDeleteS: number;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rows: 5_000_000, insertRate: 4000, inserters: 4, baselineS: 15, maxDeleteS: 420, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(String(argv[++i]).replace(/_/g, ''));
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a number`);
      return v;
    };
    if (a === '--rows') o.rows = Math.floor(num());
    else if (a === '--insert-rate') o.insertRate = num();
    else if (a === '--inserters') o.inserters = Math.max(1, Math.floor(num()));
    else if (a === '--baseline') o.baselineS = num();
    else if (a === '--max-delete') o.maxDeleteS = num();
    else if (a === '--keep') o.keep = true;
    else
      throw new Error(
        `unknown option ${a} (--rows N, --insert-rate R, --inserters N, --baseline S, --max-delete S, --keep)`,
      );
  }
  if (o.rows < DAYS * 10) throw new Error(`--rows must be at least ${DAYS * 10}`);
  return o;
}

// ------------------------------------------------------------------------------------------- generator

/** A small seeded PRNG (mulberry32), so both tables get the same rows. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRACKS = [
  'Product Viewed',
  'Product Added',
  'Product Removed',
  'Cart Viewed',
  'Checkout Started',
  'Checkout Step Completed',
  'Payment Info Entered',
  'Order Completed',
  'Order Refunded',
  'Coupon Applied',
  'Signed Up',
  'Signed In',
  'Signed Out',
  'Password Reset Requested',
  'Invite Sent',
  'Trial Started',
  'Trial Ended',
  'Subscription Upgraded',
  'Subscription Cancelled',
  'Search Performed',
  'Video Played',
  'Video Completed',
  'Feature Used',
  'Report Exported',
  'Comment Posted',
];
const PAGES = ['/', '/pricing', '/docs', '/checkout', '/account', '/blog/launch', '/login', '/cart'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
];
const USERS = 200_000;

interface EventRow {
  messageId: string;
  type: string;
  name: string | null;
  userId: string | null;
  anonymousId: string;
  status: string;
  payload: string;
  timestamp: string;
  receivedAt: string;
  messageRef: string | null;
}

const dbTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

class EventMaker {
  private readonly rand: () => number;
  constructor(seed: number) {
    this.rand = prng(seed);
  }

  private hex(n: number): string {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.rand() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  }

  private uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)];
  }

  /**
   * One Segment message as a browser (analytics.js: random messageIds) or a server library (analytics-node:
   * `node-next-<ms>-<uuid>`, ordered by time) sends it: 70 % track, 15 % page, 10 % identify, 5 % group;
   * payloads 500–800 bytes of JSON.
   */
  make(receivedMs: number): EventRow {
    const r = this.rand();
    const type = r < 0.7 ? 'track' : r < 0.85 ? 'page' : r < 0.95 ? 'identify' : 'group';
    const user = Math.floor(this.rand() * USERS);
    const userId = this.rand() < 0.85 ? `user-${user}` : null;
    const anonymousId = `${(user * 2654435761) % 4294967296}`.padStart(10, '0') + '-' + this.hex(8);
    const server = this.rand() < 0.4;
    const ts = receivedMs - Math.floor(this.rand() * 2000);
    const messageId = server ? `node-next-${ts}-${this.uuid()}` : `ajs-next-${this.hex(32)}`;
    const page = this.pick(PAGES);
    const context = server
      ? { library: { name: '@segment/analytics-node', version: '2.1.2' }, ip: `10.0.${user % 256}.${user % 97}` }
      : {
          library: { name: 'analytics.js', version: 'npm:next-1.70.0' },
          page: { path: page, referrer: '', search: '', title: 'Shop', url: `https://shop.example.com${page}` },
          userAgent: this.pick(AGENTS),
          locale: 'en-GB',
          ip: `203.0.113.${user % 256}`,
        };
    const common = {
      messageId,
      anonymousId,
      ...(userId ? { userId } : {}),
      context,
      integrations: {},
      timestamp: new Date(ts).toISOString(),
      sentAt: new Date(ts + 40).toISOString(),
      receivedAt: new Date(receivedMs).toISOString(),
      originalTimestamp: new Date(ts - 12).toISOString(),
    };
    let body: Record<string, unknown>;
    let name: string | null = null;
    let status = 'PROCESSED';
    let messageRef: string | null = null;
    if (type === 'track') {
      const event = this.pick(TRACKS);
      name = `Segment-TrackEvent:${event}`;
      status = this.rand() < 0.3 ? 'MAPPED' : 'UNMAPPED';
      if (status === 'MAPPED') messageRef = this.uuid();
      body = {
        type,
        event,
        properties: {
          order_id: `o-${this.hex(10)}`,
          product_id: `sku-${Math.floor(this.rand() * 5000)}`,
          revenue: Math.round(this.rand() * 20000) / 100,
          currency: 'EUR',
          quantity: 1 + Math.floor(this.rand() * 3),
          coupon: this.rand() < 0.2 ? 'WINTER10' : null,
        },
        ...common,
      };
    } else if (type === 'page') {
      body = { type, name: page, properties: { path: page, url: `https://shop.example.com${page}` }, ...common };
    } else if (type === 'identify') {
      body = {
        type,
        traits: {
          email: `user${user}@example.com`,
          name: `User ${user}`,
          plan: this.pick(['free', 'pro', 'enterprise']),
          createdAt: '2025-03-01T10:00:00.000Z',
        },
        ...common,
      };
    } else {
      body = { type, groupId: `org-${user % 5000}`, traits: { name: `Org ${user % 5000}`, employees: 40 }, ...common };
    }
    return {
      messageId,
      type,
      name,
      userId,
      anonymousId,
      status,
      payload: JSON.stringify(body),
      timestamp: dbTime(ts),
      receivedAt: dbTime(receivedMs),
      messageRef,
    };
  }
}

/** LOAD DATA's text format: tab-separated, `\N` for NULL, backslash escapes. */
const tsv = (v: string | number | null) =>
  v === null
    ? '\\N'
    : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

const LOAD_COLUMNS =
  '(workspace_id, message_id, type, name, user_id, anonymous_id, status, payload, timestamp, received_at, message_ref)';

/** `rows` events in received order over `DAYS` days from `day0`, as a stream of LOAD DATA lines. */
export function rowStream(rows: number, day0: number, workspaceId: number): Readable {
  const maker = new EventMaker(42);
  const span = DAYS * DAY_MS;
  let i = 0;
  let payloadBytes = 0;
  const stream = new Readable({
    read() {
      const lines: string[] = [];
      const end = Math.min(rows, i + 2000);
      for (; i < end; i++) {
        const e = maker.make(day0 + Math.floor((i * span) / rows));
        payloadBytes += e.payload.length;
        lines.push(
          [
            workspaceId,
            e.messageId,
            e.type,
            e.name,
            e.userId,
            e.anonymousId,
            e.status,
            e.payload,
            e.timestamp,
            e.receivedAt,
            e.messageRef,
          ]
            .map(tsv)
            .join('\t'),
        );
      }
      this.push(lines.length ? lines.join('\n') + '\n' : null);
    },
  });
  (stream as Readable & { payloadBytes: () => number }).payloadBytes = () => payloadBytes;
  return stream;
}

// ------------------------------------------------------------------------------------------ schema

interface Keys {
  /** The CREATE TABLE without secondary and unique keys (they are built after the load, sorted). */
  bare: string;
  /** `ADD UNIQUE KEY …, ADD KEY …` for one ALTER after the load. */
  addKeys: string;
  primary: string;
  unique: string[];
}

/** Splits Pigeon's table definition (SHOW CREATE TABLE) into the bare table and its keys. */
function splitKeys(create: string): Keys {
  const lines = create.split('\n');
  const keyLines = lines.filter((l) => /^\s*(UNIQUE KEY|KEY) /.test(l));
  const primary = lines
    .find((l) => /^\s*PRIMARY KEY/.test(l))!
    .trim()
    .replace(/,$/, '');
  const rest = lines.filter((l) => !keyLines.includes(l));
  // the line before `) ENGINE=` must not end with a comma now
  const closing = rest.findIndex((l) => /^\) ENGINE=/.test(l));
  rest[closing - 1] = rest[closing - 1].replace(/,$/, '');
  return {
    bare: rest.join('\n').replace(/ AUTO_INCREMENT=\d+/, ''),
    addKeys: keyLines.map((l) => 'ADD ' + l.trim().replace(/,$/, '')).join(', '),
    primary,
    unique: keyLines.filter((l) => /UNIQUE KEY/.test(l)).map((l) => l.trim().replace(/,$/, '')),
  };
}

const partitionName = (dayMs: number) => 'p' + new Date(dayMs).toISOString().slice(0, 10).replace(/-/g, '');

/**
 * The partitioned copy: every key of a partitioned table must contain the partitioning column, so the
 * primary key becomes (id, received_at) and the idempotency key (workspace_id, message_id, received_at).
 */
function partitionedDdl(plain: Keys, day0: number, days: number): { bare: string; addKeys: string; changes: string[] } {
  const parts: string[] = [];
  for (let d = 0; d <= days; d++) {
    const from = day0 + d * DAY_MS;
    parts.push(`PARTITION ${partitionName(from)} VALUES LESS THAN ('${dbTime(from + DAY_MS)}')`);
  }
  parts.push('PARTITION pmax VALUES LESS THAN (MAXVALUE)');
  const bare =
    plain.bare
      .replace(`CREATE TABLE \`${PLAIN}\``, `CREATE TABLE \`${PARTED}\``)
      .replace(/PRIMARY KEY \(`id`\)/, 'PRIMARY KEY (`id`,`received_at`)') +
    `\n PARTITION BY RANGE COLUMNS(received_at) (\n  ${parts.join(',\n  ')}\n)`;
  const addKeys = plain.addKeys.replace(
    /ADD UNIQUE KEY `(\w+)` \(([^)]*)\)/g,
    (_m, name: string, cols: string) => `ADD UNIQUE KEY \`${name}\` (${cols},\`received_at\`)`,
  );
  const changes = [
    `${plain.primary} → PRIMARY KEY (\`id\`,\`received_at\`)`,
    ...plain.unique.map((u) => `${u} → ${u.replace(/\)$/, ',`received_at`)')}`),
  ];
  return { bare, addKeys, changes };
}

// ------------------------------------------------------------------------------------------ measuring

interface Sample {
  at: number;
  ms: number;
  rows: number;
  failed?: string;
}

/** `n` connections, each inserting 100-row batches with Pigeon's statement, at `rate` events/s in all. */
class InsertLoad {
  readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private conns: mysql.Connection[] = [];
  private readonly maker = new EventMaker(7);

  constructor(
    private readonly table: string,
    private readonly n: number,
    private readonly rate: number,
    private readonly workspaceId: number,
  ) {}

  async start(): Promise<void> {
    for (let i = 0; i < this.n; i++) {
      const c = await mysql.createConnection({ ...SERVER, database: DB, timezone: 'Z' });
      await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      this.conns.push(c);
    }
    this.running = true;
    const intervalMs = this.rate > 0 ? (100 * this.n * 1000) / this.rate : 0;
    this.loops = this.conns.map((c, i) => this.loop(c, intervalMs, (i * intervalMs) / this.n));
  }

  private async loop(c: mysql.Connection, intervalMs: number, offsetMs: number): Promise<void> {
    const sql = `INSERT INTO ${this.table} (workspace_id, message_id, type, name, user_id, anonymous_id, status, payload, timestamp, received_at)
       VALUES ${Array.from({ length: 100 }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
    let next = performance.now() + offsetMs;
    while (this.running) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.running) break;
      const now = Date.now();
      const params: (string | number | null)[] = [];
      for (let k = 0; k < 100; k++) {
        const e = this.maker.make(now);
        params.push(
          this.workspaceId,
          e.messageId,
          e.type,
          e.name,
          e.userId,
          e.anonymousId,
          e.type === 'track' ? 'UNMAPPED' : 'PROCESSED',
          e.payload,
          e.timestamp,
          e.receivedAt,
        );
      }
      const t0 = performance.now();
      try {
        await c.execute(sql, params);
        this.samples.push({ at: t0, ms: performance.now() - t0, rows: 100 });
      } catch (err) {
        this.samples.push({ at: t0, ms: performance.now() - t0, rows: 0, failed: (err as Error).message });
      }
      next = Math.max(next + intervalMs, performance.now() - intervalMs); // catch up, but not in a burst
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.conns.map((c) => c.end()));
  }

  /** Batches started in [from, to) (performance.now() times). */
  window(from: number, to: number): InsertStats {
    const s = this.samples.filter((x) => x.at >= from && x.at < to);
    const seconds = (to - from) / 1000;
    const rows = s.reduce((a, x) => a + x.rows, 0);
    return {
      seconds: round(seconds, 1),
      batches: s.length,
      failed: s.filter((x) => x.failed).length,
      errors: [...new Set(s.flatMap((x) => (x.failed ? [x.failed] : [])))].slice(0, 5),
      eventsPerS: Math.round(rows / seconds),
      latencyMs: latency(s.map((x) => x.ms)),
    };
  }
}

interface InsertStats {
  seconds: number;
  batches: number;
  failed: number;
  /** The distinct error messages of the failed batches (at most 5). */
  errors: string[];
  eventsPerS: number;
  latencyMs: Latency;
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Samples InnoDB's history list length (undo not yet purged) every second, keeping the maximum. */
class HistorySampler {
  max = 0;
  private timer?: NodeJS.Timeout;
  constructor(private readonly conn: mysql.Connection) {}
  start(): void {
    const tick = async () => {
      try {
        this.max = Math.max(this.max, await historyLength(this.conn));
      } catch {
        /* sampling only */
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), 1000);
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

async function historyLength(conn: mysql.Connection): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT `COUNT` AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'",
  );
  return Number(rows[0]?.n ?? 0);
}

async function status(conn: mysql.Connection, name: string): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [name]);
  return Number(rows[0]?.Value ?? 0);
}

interface Size {
  rows: number;
  dataMb: number;
  indexMb: number;
  freeMb: number;
  fileMb: number;
}

async function tableSize(conn: mysql.Connection, table: string): Promise<Size> {
  await conn.query(`ANALYZE TABLE ${table}`);
  const [[t]] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT SUM(TABLE_ROWS) AS r, SUM(DATA_LENGTH) AS d, SUM(INDEX_LENGTH) AS i, SUM(DATA_FREE) AS f
       FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [DB, table],
  );
  let file = NaN;
  try {
    const [[f]] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT SUM(ALLOCATED_SIZE) AS a FROM information_schema.INNODB_SYS_TABLESPACES WHERE NAME = ? OR NAME LIKE ?`,
      [`${DB}/${table}`, `${DB}/${table}#P#%`],
    );
    file = Number(f.a);
  } catch {
    /* MySQL 8 names it INNODB_TABLESPACES; the file size is optional */
  }
  const mb = (x: unknown) => round(Number(x) / 1048576, 1);
  return { rows: Number(t.r), dataMb: mb(t.d), indexMb: mb(t.i), freeMb: mb(t.f), fileMb: mb(file) };
}

/** 2,000 reads of one event by id, as `event(id)` does: on the partitioned copy they probe every partition. */
async function pointReads(conn: mysql.Connection, table: string, maxId: number, workspaceId: number): Promise<Latency> {
  const rand = prng(99);
  const ms: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const id = 1 + Math.floor(rand() * maxId);
    const t0 = performance.now();
    await conn.execute(`SELECT * FROM ${table} WHERE workspace_id = ? AND id = ?`, [workspaceId, id]);
    ms.push(performance.now() - t0);
  }
  return latency(ms);
}

interface LoadResult {
  loadS: number;
  indexS: number;
  rowsPerS: number;
  /** Waiting for InnoDB to flush and purge after the load, before measuring. */
  settleS: number;
}

/** Writes the rows once to a file both tables are loaded from (the generator costs as much CPU as the load). */
async function generate(
  file: string,
  o: Options,
  day0: number,
  ws: number,
): Promise<{ seconds: number; avgPayloadBytes: number; mb: number }> {
  const t0 = performance.now();
  const stream = rowStream(o.rows, day0, ws) as Readable & { payloadBytes: () => number };
  await pipeline(stream, fs.createWriteStream(file));
  return {
    seconds: round((performance.now() - t0) / 1000, 1),
    avgPayloadBytes: Math.round(stream.payloadBytes() / o.rows),
    mb: round(fs.statSync(file).size / 1048576),
  };
}

async function load(
  conn: mysql.Connection,
  table: string,
  keys: string,
  o: Options,
  file: string,
): Promise<LoadResult> {
  const t0 = performance.now();
  await conn.query({
    sql: `LOAD DATA LOCAL INFILE 'events.tsv' INTO TABLE ${table} CHARACTER SET utf8mb4 ${LOAD_COLUMNS}`,
    infileStreamFactory: () => fs.createReadStream(file, { highWaterMark: 1 << 20 }),
  } as mysql.QueryOptions);
  const t1 = performance.now();
  await conn.query(`ALTER TABLE ${table} ${keys}, ALGORITHM=INPLACE, LOCK=NONE`);
  const t2 = performance.now();
  await settle(conn);
  return {
    loadS: round((t1 - t0) / 1000, 1),
    indexS: round((t2 - t1) / 1000, 1),
    rowsPerS: Math.round(o.rows / ((t2 - t0) / 1000)),
    settleS: round((performance.now() - t2) / 1000, 1),
  };
}

/**
 * Waits (at most 30 s) until InnoDB has purged the load's undo and flushed most of its dirty pages, so the
 * baseline is not measured against the load's write-back (the server is shared: others dirty pages too).
 */
async function settle(conn: mysql.Connection): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < 30_000) {
    const dirty = await status(conn, 'Innodb_buffer_pool_pages_dirty');
    const total = await status(conn, 'Innodb_buffer_pool_pages_total');
    const quiet = dirty < total * 0.05 || performance.now() - t0 > 15_000;
    if (quiet && (await historyLength(conn)) < 1000) return;
    await sleep(1000);
  }
}

interface OperationResult {
  what: string;
  seconds: number;
  rowsRemoved: number;
  rowsPerS: number;
  statements: number;
  /** Slowest single statement (a DROP PARTITION), ms. */
  slowestStatementMs?: number;
  cpu: Record<string, number>;
  /** Innodb_os_log_written during the operation: server-wide, so it includes the insert load and other users. */
  redoMb: number;
  /** redoMb less the baseline's redo rate × the operation's time: meaningful only on a server nobody else uses. */
  redoMbNetOfInserts: number;
  historyMax: number;
  inserts: { baseline: InsertStats; during: InsertStats };
  sizeBefore: Size;
  sizeAfter: Size;
  pointReadMs: Latency;
  load: LoadResult;
  extra?: Record<string, unknown>;
}

/**
 * Runs the insert load for `baselineS` seconds, then `op` with the load still running (and at least 10 s of
 * load after its start, so a short operation is compared over a window long enough to see a stall).
 */
async function measure(
  monitor: mysql.Connection,
  table: string,
  o: Options,
  ws: number,
  op: () => Promise<{ removed: number; statements: number; slowestMs?: number; extra?: Record<string, unknown> }>,
) {
  const inserts = new InsertLoad(table, o.inserters, o.insertRate, ws);
  await inserts.start();
  const b0 = performance.now();
  const redoB0 = await status(monitor, 'Innodb_os_log_written');
  await sleep(o.baselineS * 1000);
  const b1 = performance.now();
  const redoB1 = await status(monitor, 'Innodb_os_log_written');
  const pid = mariadbPid();
  const cpu = new CpuMeter({ mariadb: pid ? [pid] : [], bench: [process.pid] });
  const history = new HistorySampler(monitor);
  history.start();
  cpu.begin();
  const t0 = performance.now();
  const done = await op();
  const t1 = performance.now();
  const cpuUse = cpu.end();
  const redo1 = await status(monitor, 'Innodb_os_log_written');
  const tail = t0 + 10_000 - performance.now();
  if (tail > 0) await sleep(tail);
  history.stop();
  const windowEnd = Math.max(t1, t0 + 10_000);
  await inserts.stop();
  const seconds = (t1 - t0) / 1000;
  const baselineRedoPerS = (redoB1 - redoB0) / ((b1 - b0) / 1000);
  return {
    seconds: round(seconds, 2),
    removed: done.removed,
    statements: done.statements,
    slowestMs: done.slowestMs,
    extra: done.extra,
    cpu: cpuUse,
    redoMb: round((redo1 - redoB1) / 1048576, 1),
    redoMbNetOfInserts: round((redo1 - redoB1 - baselineRedoPerS * seconds) / 1048576, 1),
    historyMax: history.max,
    inserts: { baseline: inserts.window(b0, b1), during: inserts.window(t0, windowEnd) },
  };
}

// ------------------------------------------------------------------------------------------ the run

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const day0 = today - DAYS * DAY_MS; // rows over [day0, today); the concurrent inserts land today
  const cutoff = new Date(day0 + DROP_DAYS * DAY_MS);
  const log = (m: string) => console.error(`[${round((Date.now() - started) / 1000)} s] ${m}`);

  const admin = await mysql.createConnection({ ...SERVER, timezone: 'Z' });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
  await admin.query(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [[v]] = await admin.query<mysql.RowDataPacket[]>(
    'SELECT VERSION() AS v, @@innodb_buffer_pool_size AS bp, @@log_bin AS bin, @@innodb_flush_log_at_trx_commit AS flush',
  );
  const pigeon = await openDatabase(`mariadb://root@127.0.0.1:3306/${DB}`);
  let conn: mysql.Connection | undefined;
  const file = path.join(os.tmpdir(), `pigeon-scaling-retention-${process.pid}.tsv`);
  try {
    log(`Pigeon's schema built by its migrations in ${DB}`);
    await pigeon.run("INSERT INTO workspaces (name, created_at) VALUES ('bench', ?)", [dbTime(Date.now())]);
    const [{ id: ws }] = await pigeon.rows<{ id: number }>("SELECT id FROM workspaces WHERE name = 'bench'");
    conn = await mysql.createConnection({ ...SERVER, database: DB, timezone: 'Z' });
    const [[show]] = await conn.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE ${PLAIN}`);
    const real = String(show['Create Table']);
    const plain = splitKeys(real);
    const parted = partitionedDdl(plain, day0, DAYS);

    log(`generating ${o.rows.toLocaleString('en')} events into ${file}`);
    const gen = await generate(file, o, day0, ws);
    log(`generated ${gen.mb} MB in ${gen.seconds} s`);

    // ---- (a) Pigeon's retention on Pigeon's table
    await conn.query(`DROP TABLE ${PLAIN}`);
    await conn.query(plain.bare);
    log(`loading ${o.rows.toLocaleString('en')} rows into ${PLAIN}`);
    const loadA = await load(conn, PLAIN, plain.addKeys, o, file);
    log(`loaded in ${loadA.loadS} s + keys ${loadA.indexS} s`);
    const sizeA = await tableSize(conn, PLAIN);
    const maxId = o.rows;
    const readsA = await pointReads(conn, PLAIN, maxId, ws);
    const [[{ n: expectA }]] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${PLAIN} WHERE workspace_id = ? AND received_at < ?`,
      [ws, dbTime(cutoff.getTime())],
    );
    log(`DELETE of ${Number(expectA).toLocaleString('en')} rows (received before ${cutoff.toISOString()})`);
    const retention = new EventRetentionService(pigeon);
    const a = await measure(conn, PLAIN, o, ws, async () => {
      // the service as it runs, in slices of 100 batches so that --max-delete can stop it between them
      const t0 = performance.now();
      let purged = 0;
      let kept = 0;
      let batches = 0;
      let stopped = false;
      for (;;) {
        const r = await retention.purgeBefore(cutoff, { workspaceIds: [ws], maxBatches: 100 });
        purged += r.purged;
        kept += r.kept;
        batches += Math.ceil((r.purged + r.kept) / 1000);
        if (r.purged + r.kept < 100 * 1000) break;
        if (performance.now() - t0 > o.maxDeleteS * 1000) {
          stopped = true;
          break;
        }
      }
      return { removed: purged, statements: batches, extra: { kept, stoppedByMaxDelete: stopped } };
    });
    log(`DELETE took ${a.seconds} s`);
    const sizeA2 = await tableSize(conn, PLAIN);
    const deleteResult: OperationResult = {
      what: 'chunked DELETE (EventRetentionService.purgeBefore, batches of 1,000)',
      seconds: a.seconds,
      rowsRemoved: a.removed,
      rowsPerS: Math.round(a.removed / a.seconds),
      statements: a.statements,
      cpu: a.cpu,
      redoMb: a.redoMb,
      redoMbNetOfInserts: a.redoMbNetOfInserts,
      historyMax: a.historyMax,
      inserts: a.inserts,
      sizeBefore: sizeA,
      sizeAfter: sizeA2,
      pointReadMs: readsA,
      load: loadA,
      extra: { ...a.extra, expected: Number(expectA) },
    };
    await conn.query(`DROP TABLE ${PLAIN}`); // frees the buffer pool and disk for (b)

    // ---- (b) DROP PARTITION on the partitioned copy
    await conn.query(parted.bare);
    log(`loading ${o.rows.toLocaleString('en')} rows into ${PARTED}`);
    const loadB = await load(conn, PARTED, parted.addKeys, o, file);
    log(`loaded in ${loadB.loadS} s + keys ${loadB.indexS} s`);
    const sizeB = await tableSize(conn, PARTED);
    const readsB = await pointReads(conn, PARTED, maxId, ws);
    const [[{ n: expectB }]] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${PARTED} WHERE workspace_id = ? AND received_at < ?`,
      [ws, dbTime(cutoff.getTime())],
    );
    log(`DROP PARTITION of ${DROP_DAYS} days (${Number(expectB).toLocaleString('en')} rows)`);
    const b = await measure(conn, PARTED, o, ws, async () => {
      let slowest = 0;
      for (let d = 0; d < DROP_DAYS; d++) {
        const t0 = performance.now();
        await conn!.query(`ALTER TABLE ${PARTED} DROP PARTITION ${partitionName(day0 + d * DAY_MS)}`);
        slowest = Math.max(slowest, performance.now() - t0);
      }
      // the daily job also adds tomorrow's partition: split the empty catch-all one
      const next = today + 2 * DAY_MS;
      const t0 = performance.now();
      await conn!.query(
        `ALTER TABLE ${PARTED} REORGANIZE PARTITION pmax INTO (PARTITION ${partitionName(next)} VALUES LESS THAN ('${dbTime(next + DAY_MS)}'), PARTITION pmax VALUES LESS THAN (MAXVALUE))`,
      );
      const addMs = round(performance.now() - t0, 1);
      return {
        removed: Number(expectB),
        statements: DROP_DAYS,
        slowestMs: round(slowest, 1),
        extra: { addPartitionMs: addMs },
      };
    });
    log(`DROP PARTITION took ${b.seconds} s`);
    const [[{ n: left }]] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${PARTED} WHERE workspace_id = ? AND received_at < ?`,
      [ws, dbTime(cutoff.getTime())],
    );
    const sizeB2 = await tableSize(conn, PARTED);
    const dropResult: OperationResult = {
      what: `ALTER TABLE … DROP PARTITION, ${DROP_DAYS} statements (one per day)`,
      seconds: b.seconds,
      rowsRemoved: b.removed,
      rowsPerS: Math.round(b.removed / b.seconds),
      statements: b.statements,
      slowestStatementMs: b.slowestMs,
      cpu: b.cpu,
      redoMb: b.redoMb,
      redoMbNetOfInserts: b.redoMbNetOfInserts,
      historyMax: b.historyMax,
      inserts: b.inserts,
      sizeBefore: sizeB,
      sizeAfter: sizeB2,
      pointReadMs: readsB,
      load: loadB,
      extra: { ...b.extra, rowsLeftBeforeCutoff: Number(left) },
    };

    const report = {
      measuredAt: new Date().toISOString(),
      command: `npm run bench:retention -- ${process.argv.slice(2).join(' ')}`.trim(),
      options: o,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memGb: round(os.totalmem() / 2 ** 30, 1),
        load1AtEnd: round(os.loadavg()[0], 2),
        shared: 'shared with other work on the same 2 cores: figures are indicative, ±20 % between runs',
      },
      server: {
        version: v.v,
        bufferPoolMb: round(Number(v.bp) / 1048576),
        binlog: Number(v.bin) === 1,
        flushLogAtTrxCommit: Number(v.flush),
      },
      schema: {
        days: DAYS,
        dropDays: DROP_DAYS,
        cutoff: cutoff.toISOString(),
        pigeonTable: real,
        partitionedTable: parted.bare.replace(/\n\s*KEY.*$/gm, ''),
        partitionedKeys: parted.addKeys,
        keyChanges: parted.changes,
      },
      generate: gen,
      delete: deleteResult,
      dropPartition: dropResult,
      totalSeconds: round((Date.now() - started) / 1000),
    };
    const out = path.join(ROOT, 'bench', 'results', `retention-${new Date().toISOString().slice(0, 10)}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    console.log(markdown(report.options, gen, deleteResult, dropResult, report.server, report.schema.keyChanges));
    console.log(`\nJSON: ${path.relative(ROOT, out)} · whole run ${report.totalSeconds} s`);
  } finally {
    fs.rmSync(file, { force: true });
    await conn?.end();
    await pigeon.manager.connection.destroy();
    if (!o.keep) await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.end();
  }
}

function markdown(
  o: Options,
  gen: { seconds: number; avgPayloadBytes: number; mb: number },
  d: OperationResult,
  p: OperationResult,
  server: { version: string; bufferPoolMb: number; binlog: boolean },
  keyChanges: string[],
): string {
  const n = (x: number, dp = 0) => (Number.isFinite(x) ? x.toLocaleString('en', { maximumFractionDigits: dp }) : '—');
  const ins = (s: InsertStats) =>
    `${n(s.eventsPerS)} ev/s · p50 ${n(s.latencyMs.p50, 1)} · p99 ${n(s.latencyMs.p99, 1)} · max ${n(s.latencyMs.max, 0)} ms` +
    (s.failed ? ` · ${s.failed} failed` : '');
  const rows: [string, string, string][] = [
    ['rows in the table (InnoDB estimate)', n(d.sizeBefore.rows), n(p.sizeBefore.rows)],
    [
      'generated file (once, both tables)',
      `${n(gen.mb)} MB in ${n(gen.seconds, 1)} s, payload avg ${n(gen.avgPayloadBytes)} B`,
      'the same file',
    ],
    [
      'load: LOAD DATA + build keys',
      `${n(d.load.loadS, 1)} s + ${n(d.load.indexS, 1)} s (${n(d.load.rowsPerS)} rows/s)`,
      `${n(p.load.loadS, 1)} s + ${n(p.load.indexS, 1)} s (${n(p.load.rowsPerS)} rows/s)`,
    ],
    [
      'size before: data / index / file MB',
      `${n(d.sizeBefore.dataMb)} / ${n(d.sizeBefore.indexMb)} / ${n(d.sizeBefore.fileMb)}`,
      `${n(p.sizeBefore.dataMb)} / ${n(p.sizeBefore.indexMb)} / ${n(p.sizeBefore.fileMb)}`,
    ],
    [
      'event by id (workspace_id, id): p50 / p99 ms',
      `${n(d.pointReadMs.p50, 2)} / ${n(d.pointReadMs.p99, 2)}`,
      `${n(p.pointReadMs.p50, 2)} / ${n(p.pointReadMs.p99, 2)}`,
    ],
    [`remove ${DROP_DAYS} oldest days: rows`, n(d.rowsRemoved), n(p.rowsRemoved)],
    [
      'remove: time',
      `${n(d.seconds, 1)} s (${n(d.statements)} batches)` +
        (d.extra?.stoppedByMaxDelete
          ? ` — stopped by --max-delete; all ${n(Number(d.extra.expected))} at this rate: ${n(Number(d.extra.expected) / d.rowsPerS)} s`
          : ''),
      `${n(p.seconds, 2)} s (slowest statement ${n(p.slowestStatementMs ?? NaN)} ms)`,
    ],
    ['remove: rows/s', n(d.rowsPerS), n(p.rowsPerS)],
    ['MariaDB CPU during (% of one core)', n(d.cpu.mariadb), n(p.cpu.mariadb)],
    ['redo written during, MB (server-wide: includes the inserts and anyone else)', n(d.redoMb), n(p.redoMb)],
    ['undo history length, max', n(d.historyMax), n(p.historyMax)],
    ['inserts without (baseline)', ins(d.inserts.baseline), ins(p.inserts.baseline)],
    ['inserts during', ins(d.inserts.during), ins(p.inserts.during)],
    [
      'size after: data / index / free / file MB',
      `${n(d.sizeAfter.dataMb)} / ${n(d.sizeAfter.indexMb)} / ${n(d.sizeAfter.freeMb)} / ${n(d.sizeAfter.fileMb)}`,
      `${n(p.sizeAfter.dataMb)} / ${n(p.sizeAfter.indexMb)} / ${n(p.sizeAfter.freeMb)} / ${n(p.sizeAfter.fileMb)}`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length), 6);
  const w1 = Math.max(...rows.map((r) => r[1].length), 20);
  const w2 = Math.max(...rows.map((r) => r[2].length), 20);
  const line = (a: string, b: string, c: string) => `| ${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c.padEnd(w2)} |`;
  return [
    `Retention of ${DROP_DAYS} of ${DAYS} days, ${n(o.rows)} rows; concurrent load: ${o.inserters} connections × 100-row INSERTs at ${o.insertRate ? n(o.insertRate) + ' events/s offered' : 'full speed'}.`,
    `${server.version}, buffer pool ${server.bufferPoolMb} MB, binlog ${server.binlog ? 'on' : 'off'}; 2 shared cores.`,
    '',
    line('', 'Pigeon: chunked DELETE', 'partitioned by day: DROP PARTITION'),
    `| ${'-'.repeat(w0)} | ${'-'.repeat(w1)} | ${'-'.repeat(w2)} |`,
    ...rows.map((r) => line(...r)),
    '',
    'Keys changed for partitioning:',
    ...keyChanges.map((k) => `- ${k}`),
  ].join('\n');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
