/**
 * How a step measures: a free port, waiting for a quiet machine, one load-generator run or one raw
 * ceiling script with its CPU shares, and counting the rows a run stored.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { LoadConfig, LoadResult } from '../load/load-child';
import { CpuMeter, machineBusySeconds, message, send, sleep, spawnTs, stop } from '../lib/proc';
import { opts } from '../options';
import { log, notes, shared } from '../run-state';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const QUIET_MAX_PER_RUN_S = 10;
const QUIET_MAX_TOTAL_S = 90;
const QUIET_CORE_PCT = 25;

/**
 * The machine is shared (other processes may run tests meanwhile): before a measured run, wait
 * (bounded) until the rest of the machine uses less than a quarter of one core, and say so.
 */
export async function waitQuiet(name: string): Promise<number> {
  const t0 = performance.now();
  let busy = NaN;
  while ((performance.now() - t0) / 1000 < QUIET_MAX_PER_RUN_S && shared.quietWaitedS < QUIET_MAX_TOTAL_S) {
    const b0 = machineBusySeconds();
    await sleep(500);
    busy = ((machineBusySeconds() - b0) / 0.5) * 100;
    if (busy < QUIET_CORE_PCT) break;
  }
  const waited = (performance.now() - t0) / 1000;
  shared.quietWaitedS += Math.max(0, waited - 0.5);
  if (busy >= QUIET_CORE_PCT)
    log(`  ${name}: machine still busy (${Math.round(busy)}% of a core outside the bench); measuring anyway`);
  return Math.round(busy);
}

/** Runs one load generator process against `url` and measures CPU of it, `server` and MariaDB. */
export async function loadRun(
  name: string,
  cfg: Omit<LoadConfig, 'durationS'> & { durationS?: number },
  server: number[],
): Promise<{ result: LoadResult; cpu: Record<string, number> }> {
  const config: LoadConfig = { durationS: opts.durationS, ...cfg };
  const child = spawnTs(`load-${name}`, 'load/load-child.ts', [JSON.stringify(config)]);
  try {
    await message(child, 'ready', 60_000);
    await waitQuiet(name);
    const meter = new CpuMeter({ gen: [child.pid], server, db: shared.maria ? [shared.maria] : [] });
    meter.begin();
    send(child, { type: 'go' });
    const { result } = await message<{ result: LoadResult }>(child, 'finished', (config.durationS + 60) * 1000);
    const cpu = meter.end();
    const dead = server.filter((pid) => !fs.existsSync(`/proc/${pid}`));
    if (dead.length) throw new Error(`the server (pid ${dead.join(', ')}) died during the ${name} run`);
    const r = result;
    log(
      `  ${name}: ${r.perSecond.toLocaleString('en-US')} req/s` +
        (r.eventsAcked !== r.ok ? `, ${r.eventsPerSecond.toLocaleString('en-US')} events/s` : '') +
        `, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, 2xx ${r.ok}, non-2xx ${r.non2xx}, errors ${r.errors}` +
        (r.graphqlErrors ? `, GraphQL errors ${r.graphqlErrors} (${r.firstError})` : '') +
        ` | CPU gen ${cpu.gen}% server ${cpu.server}% db ${cpu.db}% other ${cpu.other}%`,
    );
    if (r.non2xx || r.errors) log(`  ${name}: first error: ${r.firstError ?? JSON.stringify(r.statusCodes)}`);
    if (r.latency.max > 2000) {
      notes.push(
        `${name}: the slowest answer took ${(r.latency.max / 1000).toFixed(1)} s (p99 ${r.latency.p99} ms, ` +
          `${r.latency.n} answers; the slowest arrived at ${r.slowest.map((x) => `${x.atS} s`).join(', ')} of the run)`,
      );
    }
    return { result, cpu };
  } finally {
    await stop(child);
  }
}

/** Runs a raw (no HTTP) ceiling script with the same ready/go/finished protocol. */
export async function rawRun(name: string, file: string, config: unknown, durationS: number) {
  const child = spawnTs(name, file, [JSON.stringify(config)]);
  try {
    await message(child, 'ready', 60_000);
    await waitQuiet(name);
    const meter = new CpuMeter({ gen: [child.pid], server: [], db: shared.maria ? [shared.maria] : [] });
    meter.begin();
    send(child, { type: 'go' });
    const { result } = await message<{ result: any }>(child, 'finished', (durationS + 60) * 1000);
    const cpu = meter.end();
    log(
      `  ${name}: ${result.eventsPerSecond.toLocaleString('en-US')} events/s in ${result.ok} transactions, ` +
        `p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms | CPU script ${cpu.gen}% db ${cpu.db}% other ${cpu.other}%`,
    );
    return { result, cpu };
  } finally {
    await stop(child);
  }
}

/** Rows of `inbound_events` in database `db` whose messageId starts with `<prefix>-`. */
export async function countRows(db: string, prefix: string, workspaceId?: number): Promise<number> {
  const [rows] = await shared.admin!.query<any[]>(
    `SELECT COUNT(*) AS n FROM \`${db}\`.inbound_events WHERE ${workspaceId ? 'workspace_id = ? AND ' : ''}message_id LIKE ?`,
    workspaceId ? [workspaceId, `${prefix}-%`] : [`${prefix}-%`],
  );
  return Number(rows[0].n);
}
