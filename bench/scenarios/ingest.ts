/**
 * Scenarios 1–3: ingest under load — single tracks and 100-event batches against Pigeon on MariaDB,
 * and batches against the embedded SQLite default.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { INGEST_AUTH, PIGEON_DB, RUN, TMP, measured } from '../run-state';
import { countRows, loadRun } from './harness';
import { identifyKnownUsers, onMaria, startPigeon, stopPigeon, type Pigeon } from './pigeon';

/**
 * One ingest load run against `server`, recorded as `key`: single tracks to `POST /segment` (req/s) or
 * 100-event batches to `POST /v1/batch` (events/s), `connections` clients (50 unless said), then the rows
 * stored under the run's prefix.
 */
async function ingestScenario(
  key: string,
  server: Pigeon,
  kind: 'track' | 'batch',
  countStored: (prefix: string) => Promise<number>,
  connections = 50,
): Promise<void> {
  const prefix = `${key}-${RUN}`;
  const { result, cpu } = await loadRun(
    key,
    {
      url: server.url,
      path: kind === 'track' ? '/segment' : '/v1/batch',
      kind,
      ...(kind === 'batch' ? { batchSize: 100 } : {}),
      connections,
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

const storedOnMaria = (prefix: string) => countRows(PIGEON_DB, prefix, onMaria.workspaceId);

/** Scenario 1: single-event ingest, `POST /segment`. */
export const scenario1 = () => ingestScenario('s1', onMaria.api!, 'track', storedOnMaria);
/**
 * Scenario 2: batch ingest, `POST /v1/batch`, at the concurrency Segment libraries use (1 and 10 requests in
 * flight, `s2-c1`, `s2-c10`) and at 50 (`s2`).
 */
export async function scenario2(): Promise<void> {
  await ingestScenario('s2-c1', onMaria.api!, 'batch', storedOnMaria, 1);
  await ingestScenario('s2-c10', onMaria.api!, 'batch', storedOnMaria, 10);
  await ingestScenario('s2', onMaria.api!, 'batch', storedOnMaria, 50);
}

/** Scenario 3: scenario 2 against Pigeon on SQLite (`PIGEON_ROLE=all`, the embedded default). */
export async function scenario3(): Promise<void> {
  const sqliteFile = path.join(TMP, 'pigeon.sqlite');
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
