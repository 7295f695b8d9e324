import type { EntityManager } from 'typeorm';
import { Database, type Sql } from '../../db/database';

/**
 * A {@link Database} whose every statement runs in one transaction that is already open (`tx`): the
 * services built on it — which open a transaction of their own for each write — then all write into
 * that one, so a configuration import commits whole or not at all. `transaction(work)` runs `work` in
 * `tx` (no savepoint: any error rolls the outer transaction back, which is what an import wants).
 *
 * Only for services that reach the database through `rows`, `run`, `runPrepared`, `transaction` and
 * `manager`, as every domain service does.
 */
export class TransactionDatabase extends Database {
  constructor(
    outer: Database,
    private readonly tx: Sql,
  ) {
    super(outer.dataSource);
  }

  override get manager(): EntityManager {
    return this.tx.manager;
  }

  override rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.tx.rows<T>(sql, params);
  }

  override run(sql: string, params: unknown[] = []): Promise<number> {
    return this.tx.run(sql, params);
  }

  override runPrepared(sql: string, params: unknown[]): Promise<number> {
    return this.tx.runPrepared(sql, params);
  }

  override transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    return work(this.tx);
  }
}
