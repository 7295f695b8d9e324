import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { Dialect } from './dialect';
import { driverKindOf, type DriverKind } from './data-source-options';

/** What a service needs to run SQL: the pool outside a transaction, or one transaction. */
export interface Sql {
  readonly dialect: Dialect;
  readonly manager: EntityManager;
  /** Runs a statement that returns rows. */
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement that changes rows; returns how many it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /**
   * {@link run} for large statements whose text repeats (multi-row inserts): on MySQL/MariaDB a
   * server-side prepared statement (cached per connection), so the values travel as binary
   * parameters — nothing is escaped into the text and the server parses the text once. Elsewhere
   * the same as {@link run}. Parameters are strings, numbers, null or Buffers.
   */
  runPrepared(sql: string, params: unknown[]): Promise<number>;
}

/** The callback API of a mysql2 pooled connection (what TypeORM's MySQL driver holds). */
interface Mysql2Connection {
  execute(
    sql: string,
    params: unknown[],
    callback: (err: Error | null, result: { affectedRows?: number }) => void,
  ): void;
}

export interface TransactionOptions {
  /** Extra attempts after a deadlock or lock-wait timeout (MySQL/MariaDB) or a busy database (SQLite). */
  retries?: number;
}

const RETRYABLE_MYSQL_ERRNOS = new Set([1213 /* deadlock */, 1205 /* lock wait timeout */]);

/** True for errors where running the whole transaction again is the right answer. */
export function isTransientConflict(err: unknown): boolean {
  const driverError = (err as { driverError?: { errno?: number; code?: string } })?.driverError ?? err;
  const e = driverError as { errno?: number; code?: string } | undefined;
  if (!e) return false;
  if (typeof e.errno === 'number' && RETRYABLE_MYSQL_ERRNOS.has(e.errno)) return true;
  return e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT';
}

/** True when the database could not be reached or the connection broke (as opposed to refusing a statement). */
export function isConnectionError(err: unknown): boolean {
  const e = ((err as { driverError?: unknown })?.driverError ?? err) as {
    code?: string;
    fatal?: boolean;
    message?: string;
  };
  if (!e) return false;
  if (e.fatal) return true;
  return (
    /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_SERVER_SHUTDOWN|POOL_CLOSED)$/.test(
      e.code ?? '',
    ) || /Connection is not established|DataSource is not initialized|closed|Pool is closed/i.test(e.message ?? '')
  );
}

/** True when the database refused a write because a unique key already holds the value. */
export function isUniqueViolation(err: unknown): boolean {
  const e = ((err as { driverError?: unknown })?.driverError ?? err) as { errno?: number; code?: string };
  return e?.errno === 1062 || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * Makes a SQLite transaction take the write lock before it reads anything. A transaction that reads first must
 * later upgrade to the write lock, and SQLite refuses that upgrade at once (SQLITE_BUSY, no waiting) while the
 * checkpoint thread's RESTART is pending (`sqlite-checkpointer.ts`) — and the RESTART waits for that very reader:
 * ingest answered 503 under sustained writes. The RESTART now runs between transactions
 * ({@link Database.betweenTransactions}), but one can still be pending beside a transaction when the wait for it
 * timed out. Taken first, the lock is waited for (busy_timeout) holding no snapshot, and the RESTART completes.
 * A DELETE that matches no row takes the lock and changes nothing; the `migrations` table is there in every
 * migrated database.
 */
async function takeSqliteWriteLock(runner: QueryRunner): Promise<void> {
  await runner.query('DELETE FROM migrations WHERE 0');
}

class QueryRunnerSql implements Sql {
  constructor(
    readonly dialect: Dialect,
    private readonly runner: QueryRunner,
  ) {}

  get manager(): EntityManager {
    return this.runner.manager;
  }

  async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.runner.query(sql, params, true);
    return (result.records ?? []) as T[];
  }

  async run(sql: string, params: unknown[] = []): Promise<number> {
    const result = await this.runner.query(sql, params, true);
    return result.affected ?? 0;
  }

  async runPrepared(sql: string, params: unknown[]): Promise<number> {
    if (this.dialect.kind !== 'mysql') return this.run(sql, params);
    const connection = (await this.runner.connect()) as Mysql2Connection;
    return new Promise((resolve, reject) =>
      connection.execute(sql, params, (err, result) => (err ? reject(err) : resolve(result.affectedRows ?? 0))),
    );
  }
}

/**
 * The one place that knows which engine is underneath: it hands out transactions
 * (serialised on SQLite, which has one writer; retried on MySQL deadlocks) and the
 * {@link Dialect} for the few statements that differ between engines.
 */
export class Database implements Sql {
  readonly kind: DriverKind;
  readonly dialect: Dialect;
  private sqliteQueue: Promise<unknown> = Promise.resolve();
  /** Pooled MySQL/MariaDB connections already switched to READ COMMITTED. */
  private readonly readCommitted = new WeakSet<object>();

  constructor(readonly dataSource: DataSource) {
    this.kind = driverKindOf(dataSource.options);
    this.dialect = new Dialect(this.kind);
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await new QueryRunnerSql(this.dialect, runner).rows<T>(sql, params);
    } finally {
      await runner.release();
    }
  }

  /** A write outside an explicit transaction still goes through {@link transaction} (one statement). */
  run(sql: string, params: unknown[] = []): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  runPrepared(sql: string, params: unknown[]): Promise<number> {
    return this.transaction((tx) => tx.runPrepared(sql, params));
  }

  /**
   * Runs `work` in one transaction and commits; rolls back on any error.
   * On MySQL/MariaDB the transaction is READ COMMITTED (fewer gap locks for upserts) and is
   * run again from the start after a deadlock. On SQLite, transactions run one at a time.
   */
  async transaction<T>(work: (tx: Sql) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const retries = options.retries ?? 5;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.serialised(() => this.once(work));
      } catch (err) {
        if (attempt >= retries || !isTransientConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
      }
    }
  }

  private async once<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const connection: unknown = await runner.connect();
      if (this.kind === 'mysql' && !this.readCommitted.has(connection as object)) {
        // once per pooled connection, not before every transaction (TypeORM's startTransaction(level)
        // sends SET TRANSACTION … each time: a round trip per transaction)
        await runner.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        this.readCommitted.add(connection as object);
      }
      await runner.startTransaction();
      try {
        if (this.kind === 'sqlite') await takeSqliteWriteLock(runner);
        const result = await work(new QueryRunnerSql(this.dialect, runner));
        await runner.commitTransaction();
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Runs `fn` where no transaction of this database is open: on SQLite it waits its turn among the
   * transactions and none starts until it settles (the checkpoint thread's WAL restart runs here; see
   * `sqlite-checkpointer.ts`); elsewhere it runs at once.
   */
  betweenTransactions<T>(fn: () => Promise<T>): Promise<T> {
    return this.serialised(fn);
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    if (this.kind !== 'sqlite') return fn();
    const next = this.sqliteQueue.then(fn, fn);
    this.sqliteQueue = next.catch(() => undefined);
    return next;
  }
}
