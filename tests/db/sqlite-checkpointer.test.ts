import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import { openDatabase } from '../../src/open-database';
import { startCheckpointer } from '../../src/db/sqlite-checkpointer';

interface SqliteConnection {
  pragma(source: string, options?: { simple: boolean }): unknown;
  prepare(sql: string): { pluck(): { get(): unknown } };
  close(): void;
}
// better-sqlite3 ships no types and Pigeon reaches it through TypeORM; the few calls used here
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sqlite = require('better-sqlite3') as new (file: string, options?: { readonly?: boolean }) => SqliteConnection;

/** WAL checkpoints run on a thread of their own, so the serving connection never copies the WAL itself. */
describe('SQLite checkpoint thread', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-ckpt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const until = async (check: () => boolean, ms = 10_000) => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the checkpoint thread');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('turns automatic checkpoints off on the serving connection and copies the WAL into the file from the thread', async () => {
    const file = path.join(dir, 'pigeon.sqlite');
    const db = await openDatabase(`sqlite:${file}`);
    try {
      const [{ wal_autocheckpoint }] = await db.rows<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint');
      expect(wal_autocheckpoint).toBe(0);
      const before = fs.statSync(file).size;
      await db.run('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      const body = 'x'.repeat(2000);
      for (let i = 0; i < 20; i++) {
        await db.transaction(async (tx) => {
          for (let j = 0; j < 100; j++) await tx.run('INSERT INTO filler (body) VALUES (?)', [body]);
        });
      }
      // ~4 MB written through the WAL: without a checkpoint the database file would not have grown
      await until(() => fs.statSync(file).size > before + 3_000_000);
      const [{ n }] = await db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM filler');
      expect(n).toBe(2000);
    } finally {
      await db.dataSource.destroy();
    }
    // a plain connection that never saw the WAL (it was checkpointed and closed) reads every row
    const plain = new Sqlite(file, { readonly: true });
    expect(plain.prepare('SELECT COUNT(*) AS n FROM filler').pluck().get()).toBe(2000);
    plain.close();
  });

  it('gives checkpoints back to the serving connection when the thread cannot run', async () => {
    const connection = new Sqlite(path.join(dir, 'serving.sqlite'));
    connection.pragma('journal_mode = WAL');
    const reasons: string[] = [];
    const checkpointer = startCheckpointer(path.join(dir, 'missing', 'nowhere.sqlite'), connection, (r) =>
      reasons.push(r),
    );
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await until(() => reasons.length > 0);
    expect(reasons[0]).toMatch(/directory does not exist|unable to open|no such file/i);
    expect(connection.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await checkpointer.stop();
    connection.close();
  });

  it('keeps no thread for an in-memory database, and a file database closes with its thread', async () => {
    const memory = await openDatabase('sqlite::memory:');
    const [{ wal_autocheckpoint }] = await memory.rows<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint');
    expect(wal_autocheckpoint).toBe(1000);
    await memory.dataSource.destroy();

    const file = path.join(dir, 'p.sqlite');
    const db = await openDatabase(`sqlite:${file}`);
    await db.dataSource.destroy();
    // the thread closed its connection too: the last connection to close removes the WAL file
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});
