/**
 * Raw multi-row insert ceiling, no HTTP: `connections` connections each write batches of `batch`
 * events (the scenario-2 mix) with one multi-row INSERT per batch, autocommit (one durable commit
 * per batch), back to back for `durationS`. Reports events/s and per-statement latencies.
 *
 * IPC protocol as the load generator: argv[2] = JSON config, `ready` → `go` → `finished`.
 */
import mysql from 'mysql2/promise';
import { EVENT_COLUMNS, rowTemplates, rowsFrom } from '../lib/events';
import { latency, PerSecond } from '../lib/stats';

interface Config {
  database: string;
  durationS: number;
  connections: number;
  batch: number;
  prefix: string;
}

const config: Config = JSON.parse(process.argv[2]);
const send = (m: unknown) => process.send!(m);

async function main(): Promise<void> {
  const conns = await Promise.all(
    Array.from({ length: config.connections }, () =>
      mysql.createConnection({
        host: '127.0.0.1',
        port: 3306,
        user: 'root',
        database: config.database,
        charset: 'utf8mb4_unicode_ci',
      }),
    ),
  );
  const sql = `INSERT INTO inbound_events (${EVENT_COLUMNS}) VALUES ?`;
  const pool = rowTemplates(50, config.batch);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => process.on('message', (m: any) => m?.type === 'go' && resolve()));

  const times: number[] = [];
  let events = 0;
  let seq = 0;
  const started = performance.now();
  const deadline = started + config.durationS * 1000;
  const perSecond = new PerSecond(started, config.durationS);
  await Promise.all(
    conns.map(async (conn, c) => {
      while (performance.now() < deadline) {
        const rows = rowsFrom(pool[seq % pool.length], `${config.prefix}-${c}-${seq++}`);
        const t = performance.now();
        await conn.query(sql, [rows]);
        times.push(performance.now() - t);
        events += rows.length;
        perSecond.add(rows.length);
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  send({
    type: 'finished',
    result: {
      elapsedS,
      eventsAcked: events,
      ok: times.length,
      // the median over the whole seconds of the run, as for the HTTP runs; the mean too
      eventsPerSecond: perSecond.median,
      eventsPerSecondMean: Math.round(events / elapsedS),
      perSecondSeries: perSecond.buckets,
      perSecond: Math.round(times.length / elapsedS),
      latency: latency(times),
    },
  });
  await Promise.all(conns.map((c) => c.end()));
  process.exit(0);
}

main().catch((err) => {
  send({ type: 'error', message: String(err?.stack ?? err) });
  process.exit(1);
});
