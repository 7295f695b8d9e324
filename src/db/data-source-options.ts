import fs from 'node:fs';
import path from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { DEFAULT_DATABASE_URL } from '../config';

export type DriverKind = 'mysql' | 'sqlite';

export class DatabaseUrlError extends Error {}

/**
 * Turns a `DATABASE_URL` (README.md, "Configuration") into TypeORM options:
 * `mysql://` → mysql2, `mariadb://` → TypeORM's `mariadb` type (also on mysql2),
 * `sqlite:<path>` / `sqlite::memory:` / unset → better-sqlite3. `entities` is the list in `src/entities.ts`
 * (handed in, so `db/` never imports the domain).
 */
export function dataSourceOptions(
  databaseUrl: string = DEFAULT_DATABASE_URL,
  entities: NonNullable<DataSourceOptions['entities']> = [],
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;

  if (databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl.slice('sqlite:'.length) || './data/pigeon.sqlite';
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
        if (file !== ':memory:') db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
        // better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 (NORMAL once the WAL is in use: a
        // commit survives the process crashing, not the machine losing power). An acknowledged event must
        // survive both; group commit makes the fsync per transaction cheap (bench scenario 3: ~1 % of throughput)
        db.pragma('synchronous = FULL');
        // better-sqlite3 is built with a 16 MB page cache per connection (SQLITE_DEFAULT_CACHE_SIZE=-16000);
        // the OS caches the file as well. 8 MB keeps the embedded process under 200 MB RSS under batch
        // ingest (196 → 186–192 MB) for ~5 % of its throughput (bench/README.md, scenario 3); 4 MB cost 15 %
        db.pragma('cache_size = -8000');
      },
    };
  }

  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new DatabaseUrlError(`DATABASE_URL is not a valid URL: ${redactUrl(databaseUrl)}`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'mysql' && scheme !== 'mariadb') {
    throw new DatabaseUrlError(`DATABASE_URL must start with mysql://, mariadb:// or sqlite:, got "${scheme}://"`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database)
    throw new DatabaseUrlError('DATABASE_URL must name a database, e.g. mysql://root@127.0.0.1:3306/pigeon');
  return {
    ...common,
    type: scheme,
    connectorPackage: 'mysql2',
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 3306,
    username: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    extra: {
      connectionLimit: Number(url.searchParams.get('connectionLimit') ?? 10),
      enableKeepAlive: true,
      // multi-row inserts run as prepared statements (Sql.runPrepared), one per row count: keep the
      // 100 most recent per connection (evicted ones are closed), well under the server's
      // max_prepared_stmt_count (16,382) for several processes with 10 connections each
      maxPreparedStatements: 100,
    },
  };
}

export function driverKindOf(options: DataSourceOptions): DriverKind {
  return options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
}

/** The URL without its password, for messages and logs. */
export function redactUrl(databaseUrl: string): string {
  return databaseUrl.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
