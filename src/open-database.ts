import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { Database } from './db/database';
import { dataSourceOptions } from './db/data-source-options';
import { ENTITIES } from './entities';

/** Opens the database at `databaseUrl` and applies pending migrations (never `synchronize`). */
export async function openDatabase(databaseUrl: string, options: { migrate?: boolean } = {}): Promise<Database> {
  const dataSource = new DataSource(dataSourceOptions(databaseUrl, ENTITIES));
  await dataSource.initialize();
  if (options.migrate ?? true) await dataSource.runMigrations({ transaction: 'each' });
  return new Database(dataSource);
}
