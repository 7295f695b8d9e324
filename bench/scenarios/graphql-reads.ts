/**
 * Scenario 4: GraphQL reads of a 1,000,000-event log — events filtered by name and by user, deep paging
 * with `after`, and `eventNames`; the figure of each is its p99 latency.
 */
import type { LoadKind } from '../load/load-child';
import { seedUser } from '../lib/events';
import { message, spawnTs, stop } from '../lib/proc';
import { ADMIN_KEY, PIGEON_DB, failures, log, measured, shared } from '../run-state';
import { loadRun } from './harness';
import { onMaria } from './pigeon';

const SEED_TOTAL = 1_000_000;
const SEED_NAMES = 50;
const SEED_USERS = 20_000;

export async function scenario4(): Promise<void> {
  const admin = shared.admin!;
  const api = onMaria.api!;
  const workspaceId = onMaria.workspaceId;
  const [[{ n }]] = await admin.query<any[]>(
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
  const [[{ total }]] = await admin.query<any[]>(
    `SELECT COUNT(*) AS total FROM \`${PIGEON_DB}\`.inbound_events WHERE workspace_id = ?`,
    [workspaceId],
  );
  const headers = { authorization: `Bearer ${ADMIN_KEY}` };
  const base = { url: api.url, path: '/graphql', connections: 20, prefix: '', headers };
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
      [api.child.pid],
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
