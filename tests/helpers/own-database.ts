import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { isMysql, testDatabaseUrl } from './test-app';

/** A database URL no other test file writes to, and how to drop it. */
export interface OwnDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of the test's own: on SQLite a fresh file (as every test app has), on MySQL/MariaDB a new
 * database beside the shared one (whose tables the other test files write to at the same time), created
 * empty — open it with `openDatabase` to migrate it — and dropped by `drop()`.
 */
export async function ownDatabase(prefix = 'pigeon_own'): Promise<OwnDatabase> {
  if (!isMysql()) return { url: testDatabaseUrl(), drop: async () => undefined };
  const base = new URL(testDatabaseUrl());
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const admin = await mysql.createConnection({
    host: base.hostname,
    port: Number(base.port || 3306),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\``);
  base.pathname = `/${name}`;
  return {
    url: base.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE \`${name}\``);
      await admin.end();
    },
  };
}
