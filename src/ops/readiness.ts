import type { Role } from '../config';
import type { Database } from '../db/database';
import type { Lifecycle } from './lifecycle';

/** What `/readyz` needs to know about the process. */
export interface ReadinessDeps {
  db: Database;
  /** The process role; workers are checked only when it has them (`worker`, `all`). Unknown: not checked. */
  role?: Role;
  /** The process's send worker, when the role has one. */
  worker?: { readonly isRunning: boolean };
  /** How long the database may take to answer; default 2 s. */
  timeoutMs?: number;
  /** The process's lifecycle: once it is stopping, the process is not ready. Absent: never stopping. */
  lifecycle?: Pick<Lifecycle, 'stopping' | 'stoppingBecause'>;
}

/** `stopping` is set when the process is not ready because it is shutting down (for good). */
export type Readiness = { ready: true } | { ready: false; reason: string; stopping?: true };

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Ready to serve: the process is not shutting down, the database answers, every migration this build
 * ships has been applied, and the send workers run when the role has them. The reason names the first
 * thing that is not so (and never carries connection strings or SQL).
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  if (deps.lifecycle?.stopping) {
    const because = deps.lifecycle.stoppingBecause;
    return { ready: false, stopping: true, reason: `the process is shutting down${because ? ` (${because})` : ''}` };
  }
  const timeoutMs = deps.timeoutMs ?? 2000;
  const { dataSource } = deps.db;
  if (!dataSource.isInitialized) return { ready: false, reason: 'the database connection is closed' };
  try {
    await withTimeout(deps.db.rows('SELECT 1 AS ok'), timeoutMs, 'the database');
  } catch (err) {
    const code = (err as { code?: string })?.code;
    return { ready: false, reason: `the database is unreachable${code ? ` (${code})` : ''}` };
  }
  try {
    const pending = await withTimeout(dataSource.showMigrations(), timeoutMs, 'the migrations table');
    if (pending) {
      const table = dataSource.options.migrationsTableName ?? 'migrations';
      const done = new Set(
        (await deps.db.rows<{ name: string }>(`SELECT name FROM ${table}`)).map((r) => String(r.name)),
      );
      const names = dataSource.migrations.map((m) => m.name ?? m.constructor.name).filter((n) => !done.has(n));
      return {
        ready: false,
        reason: `${names.length} migration(s) pending: ${names.join(', ')}; run npm run migration:run or restart`,
      };
    }
  } catch {
    return { ready: false, reason: 'could not read the applied migrations' };
  }
  if ((deps.role === 'worker' || deps.role === 'all') && !deps.worker?.isRunning) {
    return { ready: false, reason: `the send workers are not running (PIGEON_ROLE=${deps.role})` };
  }
  return { ready: true };
}
