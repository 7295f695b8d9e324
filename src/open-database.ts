import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { Database } from './db/database';
import { dataSourceOptions } from './db/data-source-options';
import { startCheckpointer, type Checkpointer, type CheckpointerOptions } from './db/sqlite-checkpointer';
import { ENTITIES } from './entities';

/** A DataSource that also stops the SQLite checkpoint thread (see `db/sqlite-checkpointer.ts`) when destroyed. */
class PigeonDataSource extends DataSource {
  checkpointer?: Checkpointer;

  override async destroy(): Promise<void> {
    await this.checkpointer?.stop();
    return super.destroy();
  }
}

/** Opens the database at `databaseUrl` and applies pending migrations (never `synchronize`). */
export async function openDatabase(
  databaseUrl: string,
  options: { migrate?: boolean; checkpointer?: Omit<CheckpointerOptions, 'onFailure'> } = {},
): Promise<Database> {
  const dataSource = new PigeonDataSource(dataSourceOptions(databaseUrl, ENTITIES));
  await dataSource.initialize();
  if (options.migrate ?? true) await dataSource.runMigrations({ transaction: 'each' });
  const { type, database } = dataSource.options;
  if (type === 'better-sqlite3' && database !== ':memory:') {
    const connection = (dataSource.driver as unknown as { databaseConnection: { pragma(s: string): unknown } })
      .databaseConnection;
    dataSource.checkpointer = startCheckpointer(String(database), connection, {
      ...options.checkpointer,
      onFailure: (reason) =>
        process.emitWarning(`SQLite checkpoint thread stopped (${reason}); checkpoints run on the main thread again`),
    });
  }
  const db = new Database(dataSource);
  // WAL restarts run between two write transactions, never contending with one for the write lock
  dataSource.checkpointer?.setWriteGate((restart) => db.betweenTransactions(restart));
  return db;
}
