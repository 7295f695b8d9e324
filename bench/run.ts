/**
 * `npm run bench`: Pigeon's load benchmarks and their physical ceilings, measured in one run on
 * this machine, printed as one table (see bench/README.md).
 *
 *   npm run bench                         everything (MariaDB set, then the SQLite set)
 *   npm run bench -- --sqlite             only the SQLite set (raw better-sqlite3 ceiling, scenarios 3 and 7)
 *   npm run bench -- --mariadb            only the MariaDB set
 *   npm run bench -- --only s8            callback intake beside /segment (about 40 s with --duration 10)
 *   npm run bench -- --only s1            one scenario (with the ceiling its ratio needs); a comma list works
 *   npm run bench -- --duration 10        seconds per load run (default 10)
 *   npm run bench -- --profile            run Pigeon under `node --cpu-prof` and print its hot functions
 *   npm run bench -- --no-build --keep    skip `npm run build`; keep the bench databases
 *
 * Every server, the load generator and each raw ceiling run as separate processes; everything
 * targets 127.0.0.1. All children are killed at the end, on error and on SIGINT.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { ROOT, killAllNow, mariadbPid, running, setLogDir, stop, stopAll } from './lib/proc';
import { MARIADB_SET, opts, type StepName } from './options';
import { CEILING_DB, PIGEON_DB, RUN, TMP, failures, log, notes, rss, shared, startedAt } from './run-state';
import { machine, report } from './report';
import { httpCeiling, rawCeiling, sqliteCeiling } from './scenarios/ceilings';
import { scenario1, scenario2, scenario3 } from './scenarios/ingest';
import { scenario4 } from './scenarios/graphql-reads';
import { PIPELINE_TIMEOUT_S, scenario5 } from './scenarios/pipeline';
import { onMaria, startPigeonMaria, stopPigeon } from './scenarios/pigeon';
import { WORKFLOW_TIMEOUT_S, scenario7, scenario7Sqlite } from './scenarios/workflow';
import { scenario8 } from './scenarios/callbacks';

// The steps: scenarios/ (ceilings.ts C1–C5, ingest.ts 1–3, graphql-reads.ts 4, pipeline.ts 5, workflow.ts 7; harness.ts measures,
// pigeon.ts runs Pigeon); the command line: options.ts; what a run shares: run-state.ts; the table: report.ts.

// ---- steps ---------------------------------------------------------------------------------------

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

// ---- main ----------------------------------------------------------------------------------------

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    rss.stop();
    await stopAll(5000);
    if (shared.admin && !opts.keep) {
      for (const db of [PIGEON_DB, CEILING_DB])
        await shared.admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    }
    await shared.admin?.end().catch(() => {});
    shared.admin = undefined;
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
  shared.maria = mariadbPid();
  const wantsMaria = opts.steps.some((s) => MARIADB_SET.includes(s));
  const admin = await mysql.createConnection({
    host: '127.0.0.1',
    port: 3306,
    user: 'root',
    multipleStatements: false,
  });
  shared.admin = admin;
  shared.machineInfo = await machine();
  if (wantsMaria) {
    if (!shared.maria) notes.push('mariadbd pid not found: database CPU is not reported');
    await admin.query(`CREATE DATABASE \`${CEILING_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  }
  const d = opts.durationS;
  const want = (s: StepName) => opts.steps.includes(s);

  if (want('echo')) await step('echo', d + 60, () => httpCeiling('echo'));
  if (want('naive')) await step('naive', d + 60, () => httpCeiling('naive'));
  if (want('raw')) await step('raw', d + 60, rawCeiling);
  if (want('batch-route')) await step('batch-route', d + 60, () => httpCeiling('batch-route'));

  const pigeonMaria = (['s1', 's2', 's4', 's5', 's7'] as StepName[]).filter(want);
  if (pigeonMaria.length) {
    rss.start(250);
    if (await step('pigeon (MariaDB) start + identify', 120, startPigeonMaria)) {
      if (want('s1')) await step('s1', d + 60, scenario1);
      if (want('s2')) await step('s2', 3 * d + 120, scenario2);
      if (want('s4')) await step('s4', 300 + 4 * (d + 40), scenario4);
      if (want('s5')) await step('s5', 2 * PIPELINE_TIMEOUT_S + 120, scenario5);
      if (want('s7')) await step('s7', 2 * WORKFLOW_TIMEOUT_S + 300, scenario7);
    }
    await stopPigeon(onMaria.api);
  }
  if (want('s8')) {
    rss.start(250);
    await step('s8', 2 * d + 120, scenario8);
  }
  if (want('sqlite-raw')) await step('sqlite-raw', d + 60, sqliteCeiling);
  if (want('s3')) {
    rss.start(250);
    await step('s3', d + 120, scenario3);
  }
  if (want('s7-sqlite')) {
    rss.start(250);
    await step('s7-sqlite', 2 * WORKFLOW_TIMEOUT_S + 300, scenario7Sqlite);
  }
  rss.stop();
  rss.sample();
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
