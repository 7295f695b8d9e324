import 'reflect-metadata';
import { openDatabase } from '../../src/open-database';

/**
 * With DATABASE_URL set (MySQL/MariaDB), migrations run once here, before the test files share
 * that database; each test then works in a workspace of its own. Without it, every test file
 * gets a fresh SQLite file (see test-app.ts).
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url || url.startsWith('sqlite:')) return;
  const db = await openDatabase(url);
  await db.dataSource.destroy();
}
