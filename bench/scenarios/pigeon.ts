/**
 * Pigeon itself as the bench runs it: a built `dist/src/index.js` process per role, its GraphQL and
 * batch endpoints, and the API process on a fresh MariaDB database that scenarios 1, 2, 4 and 5 share.
 */
import path from 'node:path';
import { KNOWN_USERS, identifyMessage } from '../lib/events';
import { shapeOf } from '../lib/schema';
import { spawnNode, stop, tail, waitForHttp, type Child } from '../lib/proc';
import { opts } from '../options';
import {
  ADMIN_KEY,
  CEILING_DB,
  INGEST_AUTH,
  INGEST_KEY,
  PIGEON_DB,
  RUN,
  TMP,
  log,
  notes,
  profileNames,
  rss,
  shared,
} from '../run-state';
import { freePort } from './harness';

export interface Pigeon {
  child: Child;
  url: string;
}

export async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body: any = await res.json();
  if (body.errors) throw new Error(`GraphQL: ${JSON.stringify(body.errors).slice(0, 500)}`);
  return body.data;
}

export async function postBatches(url: string, batches: unknown[][], parallel = 4): Promise<void> {
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

export async function identifyKnownUsers(url: string, prefix: string): Promise<void> {
  const batches: unknown[][] = [];
  for (let u = 0; u < KNOWN_USERS; u += 100) {
    const batch = [];
    for (let k = u; k < Math.min(KNOWN_USERS, u + 100); k++) batch.push(identifyMessage(`${prefix}-${k}`, k));
    batches.push(batch);
  }
  await postBatches(url, batches);
}

export async function startPigeon(
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

export async function stopPigeon(p: Pigeon | undefined): Promise<void> {
  if (!p) return;
  await stop(p.child, 20_000);
  rss.unwatch(p.child.pid);
}

/** The API process on MariaDB that scenarios 1, 2, 4 and 5 share, and its default workspace. */
export const onMaria: { api?: Pigeon; workspaceId: number } = { workspaceId: 0 };

export const mariaUrl = () => `mariadb://root@127.0.0.1:3306/${PIGEON_DB}`;

export async function startPigeonMaria(): Promise<void> {
  const admin = shared.admin!;
  await admin.query(`CREATE DATABASE \`${PIGEON_DB}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  onMaria.api = await startPigeon('pigeon-api', mariaUrl(), 'api');
  const [ws] = await admin.query<any[]>(`SELECT id FROM \`${PIGEON_DB}\`.workspaces WHERE name = 'default'`);
  onMaria.workspaceId = Number(ws[0].id);
  // the ceilings' copy of the event log must stay the shape Pigeon's migrations build
  const [[mine], [theirs]] = await Promise.all([
    admin.query<any[]>(`SHOW CREATE TABLE \`${CEILING_DB}\`.inbound_events`).catch(() => [[]] as any),
    admin.query<any[]>(`SHOW CREATE TABLE \`${PIGEON_DB}\`.inbound_events`),
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
  await identifyKnownUsers(onMaria.api.url, `known-${RUN}`);
}
