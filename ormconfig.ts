import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './src/db/data-source-options';
import { ENTITIES } from './src/entities';

/**
 * The one DataSource, for the TypeORM CLI (`npm run migration:run|revert|generate`).
 * The driver follows `DATABASE_URL`: mysql:// → mysql2, mariadb:// → mariadb, sqlite: or unset → better-sqlite3.
 */
const dataSource = new DataSource(dataSourceOptions(process.env.DATABASE_URL || undefined, ENTITIES));
export default dataSource;
