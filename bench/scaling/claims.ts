/**
 * The job queue's hot spot: Pigeon's own `JobQueue.claim` (`kind = 'send' AND run_at <= now ORDER BY run_at
 * LIMIT 50 FOR UPDATE SKIP LOCKED`, then the UPDATE that leases the rows) and `complete` (DELETE), by 1 and
 * then 8 concurrent claimers, on a jobs table of `--jobs` rows (default 1,000,000: 80 % due sends, 20 %
 * workflow runs waiting for a later time). Each claimer claims, then completes at once — a worker whose
 * provider answers instantly — so the figures are the queue's own ceiling. Also times the two queries behind
 * the queue gauges of every process's `/metrics`: `oldestDue()` (every scrape) and `counts()`.
 *
 *   npx ts-node --transpile-only bench/scaling/claims.ts [--jobs 1000000] [--seconds 15] [--keep]
 *
 * Needs MariaDB on 127.0.0.1:3306 (root, no password; the `seq` engine fills the table); creates
 * `pigeon_scaling_claims` with Pigeon's migrations and drops it at the end. See docs/scaling.md.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../src/open-database';
import { JobQueue } from '../../src/pipeline/job-queue';
import type { Database } from '../../src/db/database';
import { latency, type Latency } from '../lib/stats';
import { CpuMeter, mariadbPid } from '../lib/proc';

const DB = 'pigeon_scaling_claims';
const ROOT = path.resolve(__dirname, '..', '..');
const CLAIM = 50; // PIGEON_WORKER_CONCURRENCY's default: what one worker claims at a time

interface Options {
  jobs: number;
  seconds: number;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { jobs: 1_000_000, seconds: 15, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--jobs') o.jobs = Math.floor(Number(String(argv[++i]).replace(/_/g, '')));
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown option ${a} (--jobs N, --seconds S, --keep)`);
  }
  if (!(o.jobs >= 1000) || !(o.seconds > 0)) throw new Error('--jobs ≥ 1000 and --seconds > 0');
  return o;
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const dbTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface Run {
  claimers: number;
  jobsPerS: number;
  claims: number;
  emptyClaims: number;
  errors: number;
  firstError?: string;
  claimMs: Latency;
  completeMs: Latency;
  /** Claim latency in the first and the last second: does it drift as deleted entries pile up? */
  claimP50FirstLastS: [number, number];
  cpu: Record<string, number>;
  historyMax: number;
}

async function fill(db: Database, jobs: number): Promise<number> {
  const t0 = performance.now();
  const now = Date.now();
  // due sends spread over the last hour (a backlog), waiting runs over the next week
  await db.run(
    `INSERT INTO jobs (workspace_id, kind, message_id, status, run_at, runs, created_at, updated_at)
     SELECT 1, IF(seq % 5 = 0, 'run', 'send'), UUID(), 'ready',
            IF(seq % 5 = 0, ? + INTERVAL (seq % 604800) SECOND, ? + INTERVAL (seq * 3600000 DIV ?) * 1000 MICROSECOND),
            0, ?, ?
       FROM seq_1_to_${jobs}`,
    [dbTime(now + 60_000), dbTime(now - 3_600_000), jobs, dbTime(now), dbTime(now)],
  );
  await db.run('ANALYZE TABLE jobs');
  return round((performance.now() - t0) / 1000, 1);
}

async function historyLength(db: Database): Promise<number> {
  const [row] = await db.rows<{ n: number }>(
    "SELECT `COUNT` AS n FROM information_schema.INNODB_METRICS WHERE NAME = 'trx_rseg_history_len'",
  );
  return Number(row?.n ?? 0);
}

async function run(db: Database, queue: JobQueue, claimers: number, seconds: number): Promise<Run> {
  const claimMs: { at: number; ms: number }[] = [];
  const completeMs: number[] = [];
  let jobs = 0;
  let empty = 0;
  let errors = 0;
  let firstError: string | undefined;
  let historyMax = 0;
  const pid = mariadbPid();
  const cpu = new CpuMeter({ mariadb: pid ? [pid] : [], bench: [process.pid] });
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const sampler = setInterval(() => {
    void historyLength(db).then((n) => (historyMax = Math.max(historyMax, n)));
  }, 1000);
  cpu.begin();
  await Promise.all(
    Array.from({ length: claimers }, async (_, i) => {
      const worker = `bench-${i}`;
      while (performance.now() < end) {
        try {
          const c0 = performance.now();
          const claimed = await queue.claim(worker, CLAIM, 60_000);
          claimMs.push({ at: c0 - t0, ms: performance.now() - c0 });
          if (!claimed.length) {
            empty++;
            continue;
          }
          const d0 = performance.now();
          await queue.complete(claimed, worker);
          completeMs.push(performance.now() - d0);
          jobs += claimed.length;
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const cpuUse = cpu.end();
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const p50In = (from: number, to: number) =>
    latency(claimMs.filter((c) => c.at >= from && c.at < to).map((c) => c.ms)).p50;
  return {
    claimers,
    jobsPerS: Math.round(jobs / wall),
    claims: claimMs.length,
    emptyClaims: empty,
    errors,
    firstError,
    claimMs: latency(claimMs.map((c) => c.ms)),
    completeMs: latency(completeMs),
    claimP50FirstLastS: [p50In(0, 1000), p50In((seconds - 1) * 1000, seconds * 1000)],
    cpu: cpuUse,
    historyMax,
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const log = (m: string) => console.error(`[${round((Date.now() - started) / 1000)} s] ${m}`);
  const bootstrap = await openDatabase('mariadb://root@127.0.0.1:3306/mysql', { migrate: false });
  await bootstrap.run(`DROP DATABASE IF EXISTS ${DB}`);
  await bootstrap.run(`CREATE DATABASE ${DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await bootstrap.dataSource.destroy();
  const db = await openDatabase(`mariadb://root@127.0.0.1:3306/${DB}?connectionLimit=12`);
  try {
    const queue = new JobQueue(db);
    const runs: Run[] = [];
    const fills: number[] = [];
    const oldestDueMs: number[] = [];
    const countsMs: number[] = [];
    for (const claimers of [1, 8]) {
      await db.run('TRUNCATE TABLE jobs');
      log(`filling jobs with ${o.jobs.toLocaleString('en')} rows`);
      fills.push(await fill(db, o.jobs));
      for (let i = 0; i < 5; i++) {
        const d0 = performance.now();
        await queue.oldestDue();
        const d1 = performance.now();
        await queue.counts();
        oldestDueMs.push(d1 - d0);
        countsMs.push(performance.now() - d1);
      }
      log(`${claimers} claimer(s) for ${o.seconds} s`);
      runs.push(await run(db, queue, claimers, o.seconds));
    }
    const report = {
      measuredAt: new Date().toISOString(),
      command: `npx ts-node --transpile-only bench/scaling/claims.ts ${process.argv.slice(2).join(' ')}`.trim(),
      options: o,
      claimSize: CLAIM,
      fillSeconds: fills,
      queueGaugesMs: { oldestDue: latency(oldestDueMs), counts: latency(countsMs) },
      runs,
      note: 'machine shared with other work on 2 cores; the claimers and MariaDB share them',
    };
    const out = path.join(ROOT, 'bench', 'results', `claims-${new Date().toISOString().slice(0, 10)}.json`);
    fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    const n = (x: number, d = 1) => x.toLocaleString('en', { maximumFractionDigits: d });
    console.log(
      [
        `Job claims on ${n(o.jobs, 0)} jobs (claim ${CLAIM}, complete at once), ${o.seconds} s per run; queue gauges' queries p50: oldestDue ${n(report.queueGaugesMs.oldestDue.p50)} ms, counts ${n(report.queueGaugesMs.counts.p50)} ms`,
        '',
        '| claimers | jobs/s | claim p50 / p99 ms | first → last second p50 ms | complete p50 / p99 ms | MariaDB CPU % | errors |',
        '| -------: | -----: | -----------------: | -------------------------: | --------------------: | ------------: | -----: |',
        ...runs.map(
          (r) =>
            `| ${r.claimers} | ${n(r.jobsPerS, 0)} | ${n(r.claimMs.p50)} / ${n(r.claimMs.p99)} | ${n(r.claimP50FirstLastS[0])} → ${n(r.claimP50FirstLastS[1])} | ${n(r.completeMs.p50)} / ${n(r.completeMs.p99)} | ${n(r.cpu.mariadb, 0)} | ${r.errors} |`,
        ),
        '',
        `JSON: ${path.relative(ROOT, out)}`,
      ].join('\n'),
    );
  } finally {
    if (!o.keep) await db.run(`DROP DATABASE IF EXISTS ${DB}`);
    await db.dataSource.destroy();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
