/**
 * The physical ceilings C1–C5 (bench/README.md, "How each figure is built"): what this machine does
 * without Pigeon, in the same run, so that each scenario's figure has a ratio.
 */
import path from 'node:path';
import { MYSQL_EVENT_LOG } from '../lib/schema';
import { spawnTs, stop, waitForHttp } from '../lib/proc';
import { opts } from '../options';
import { CEILING_DB, RUN, TMP, measured, notes, shared } from '../run-state';
import { countRows, freePort, loadRun, rawRun } from './harness';

async function freshCeilingTable(): Promise<void> {
  const admin = shared.admin!;
  await admin.query(`DROP TABLE IF EXISTS \`${CEILING_DB}\`.inbound_events`);
  await admin.query(`USE \`${CEILING_DB}\``);
  await admin.query(MYSQL_EVENT_LOG);
}

/** C1 echo, C2 naive insert, C4 bare batch route: a bare Fastify server under the load generator. */
export async function httpCeiling(key: 'echo' | 'naive' | 'batch-route'): Promise<void> {
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

/** C3: multi-row INSERTs straight into MariaDB, no HTTP. */
export async function rawCeiling(): Promise<void> {
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

/** C5: 100-row transactions straight into better-sqlite3, no HTTP. */
export async function sqliteCeiling(): Promise<void> {
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
