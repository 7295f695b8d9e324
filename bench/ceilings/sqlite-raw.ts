/**
 * Raw better-sqlite3 ceiling, no HTTP: transactions of `batch` events (the scenario-2 mix) into the
 * event-log copy in a fresh file, back to back for `durationS`, with Pigeon's settings
 * (src/db/data-source-options.ts): journal_mode=WAL, busy_timeout=5000, foreign_keys=ON and
 * synchronous=FULL (better-sqlite3 is compiled with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, which would run
 * NORMAL once the WAL is in use; both set FULL), and the bench reports the value read after the writes.
 * Every transaction is one commit, like Pigeon's per-request transaction.
 *
 * IPC protocol as the load generator: argv[2] = JSON config, `ready` → `go` → `finished`.
 */
import Database from 'better-sqlite3';
import { EVENT_COLUMNS, rowTemplates, rowsFrom } from '../lib/events';
import { SQLITE_EVENT_LOG } from '../lib/schema';
import { latency, PerSecond } from '../lib/stats';

interface Config {
  file: string;
  durationS: number;
  batch: number;
  prefix: string;
}

const config: Config = JSON.parse(process.argv[2]);
const send = (m: unknown) => process.send!(m);

async function main(): Promise<void> {
  const db = new Database(config.file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = FULL');
  for (const ddl of SQLITE_EVENT_LOG) db.exec(ddl);
  const insert = db.prepare(`INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const write = db.transaction((rows: unknown[][]) => {
    for (const row of rows) insert.run(row);
  });
  const pool = rowTemplates(50, config.batch);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => process.on('message', (m: any) => m?.type === 'go' && resolve()));

  const times: number[] = [];
  let events = 0;
  let seq = 0;
  const started = performance.now();
  const deadline = started + config.durationS * 1000;
  const perSecond = new PerSecond(started, config.durationS);
  while (performance.now() < deadline) {
    const rows = rowsFrom(pool[seq % pool.length], `${config.prefix}-${seq++}`);
    const t = performance.now();
    write(rows);
    times.push(performance.now() - t);
    events += rows.length;
    perSecond.add(rows.length);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const stored = Number(db.prepare('SELECT COUNT(*) AS n FROM inbound_events').pluck().get());
  send({
    type: 'finished',
    result: {
      elapsedS,
      eventsAcked: events,
      rows: stored,
      ok: times.length,
      // the median over the whole seconds of the run, as for the HTTP runs; the mean too
      eventsPerSecond: perSecond.median,
      eventsPerSecondMean: Math.round(events / elapsedS),
      perSecondSeries: perSecond.buckets,
      perSecond: Math.round(times.length / elapsedS),
      latency: latency(times),
      synchronous: db.pragma('synchronous', { simple: true }),
      journalMode: db.pragma('journal_mode', { simple: true }),
    },
  });
  db.close();
  process.exit(0);
}

main().catch((err) => {
  send({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
});
