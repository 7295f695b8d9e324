/**
 * Scenario 8: provider callback intake — signed webhook-provider delivery reports (`POST /hooks/:id`, one event
 * per request, HMAC-SHA256 verified, stored before the answer) beside single-event `POST /segment`, on one
 * Pigeon API process with PIGEON_PUBLIC_URL on a fresh MariaDB database, in the same run. Target: callbacks
 * ≥ 0.8× the /segment rate.
 */
import { INGEST_AUTH, PIGEON_DB, RUN, measured } from '../run-state';
import { countRows, loadRun } from './harness';
import { gql, startPigeon, stopPigeon } from './pigeon';
import { shared } from '../run-state';

const SECRET = 'bench-webhook-secret';

export async function scenario8(): Promise<void> {
  const db = `${PIGEON_DB}_callbacks`;
  await shared.admin!.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const p = await startPigeon('pigeon-callbacks', `mariadb://root@127.0.0.1:3306/${db}`, 'api', {
    PIGEON_PUBLIC_URL: 'https://pigeon.bench.test',
  });
  try {
    const { configureProvider } = await gql(
      p.url,
      'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id callbackUrl } }',
      {
        i: { channel: 'WEBHOOK', provider: 'webhook', config: { url: 'https://receiver.bench.test', secret: SECRET } },
      },
    );
    const path = new URL(configureProvider.callbackUrl).pathname;
    const [ws] = await shared.admin!.query<any[]>(`SELECT id FROM \`${db}\`.workspaces WHERE name = 'default'`);

    const segmentPrefix = `s8-segment-${RUN}`;
    const seg = await loadRun(
      's8-segment',
      {
        url: p.url,
        path: '/segment',
        kind: 'track',
        connections: 50,
        prefix: segmentPrefix,
        headers: { authorization: INGEST_AUTH },
      },
      [p.child.pid],
    );
    measured['s8-segment'] = {
      figure: seg.result.perSecond,
      unit: 'req/s',
      p50: seg.result.latency.p50,
      p99: seg.result.latency.p99,
      rows: await countRows(db, segmentPrefix, Number(ws[0].id)),
      acked: seg.result.eventsAcked,
      cpu: seg.cpu,
      detail: seg.result,
    };

    const hookPrefix = `s8-hook-${RUN}`;
    const hook = await loadRun(
      's8',
      { url: p.url, path, kind: 'callback', connections: 50, prefix: hookPrefix, headers: {}, secret: SECRET },
      [p.child.pid],
    );
    const [stored] = await shared.admin!.query<any[]>(
      `SELECT COUNT(*) AS n FROM \`${db}\`.provider_callbacks WHERE provider_config_id = ? AND event_id LIKE ?`,
      [configureProvider.id, `${hookPrefix}-%`],
    );
    measured.s8 = {
      figure: hook.result.perSecond,
      unit: 'req/s',
      p50: hook.result.latency.p50,
      p99: hook.result.latency.p99,
      rows: Number(stored[0].n),
      acked: hook.result.eventsAcked,
      cpu: hook.cpu,
      detail: hook.result,
    };
  } finally {
    await stopPigeon(p);
    await shared.admin!.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
  }
}
