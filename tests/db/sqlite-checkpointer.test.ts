import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import { openDatabase } from '../../src/open-database';
import { startCheckpointer, type Checkpointer } from '../../src/db/sqlite-checkpointer';

interface SqliteConnection {
  pragma(source: string, options?: { simple: boolean }): unknown;
  prepare(sql: string): { pluck(): { get(): unknown }; run(...params: unknown[]): unknown };
  exec(sql: string): void;
  transaction(fn: () => void): () => void;
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

  /** Frames in the WAL, read without copying any (a PASSIVE checkpoint while the thread is stopped would). */
  const walFrames = (file: string) => Math.floor(fs.statSync(`${file}-wal`).size / 4120);

  it('asks its write gate for each WAL restart and restarts the WAL only when the gate lets it', async () => {
    const file = path.join(dir, 'gated.sqlite');
    const connection = new Sqlite(file);
    connection.pragma('journal_mode = WAL');
    connection.pragma('synchronous = FULL');
    connection.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const checkpointer = startCheckpointer(file, connection, { restartFrames: 100 });
    try {
      let letGo: (() => void) | undefined;
      const held = new Promise<void>((r) => (letGo = r));
      const asked: number[] = [];
      checkpointer.setWriteGate(async (restart) => {
        asked.push(Date.now());
        await held;
        await restart();
      });
      const insert = connection.prepare('INSERT INTO filler (body) VALUES (?)');
      const body = 'x'.repeat(2000);
      // ~200 frames in one commit (two rows to a page): more than 100
      connection.transaction(() => {
        for (let j = 0; j < 400; j++) insert.run(body);
      })();
      await until(() => asked.length === 1);
      // the passive checkpoints go on copying, but the WAL is not started over until the gate says so
      await new Promise((r) => setTimeout(r, 200));
      expect(checkpointer.restarts()).toBe(0);
      letGo!();
      await until(() => checkpointer.restarts() === 1);
      // the next write starts the WAL over from its first frame
      insert.run('after the restart');
      const [row] = connection.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      expect(row.log).toBeLessThan(10);
      expect(asked).toHaveLength(1);
    } finally {
      await checkpointer.stop();
      connection.close();
    }
  });

  it('runs the WAL restart of an opened database between two of its write transactions', async () => {
    const file = path.join(dir, 'between.sqlite');
    const db = await openDatabase(`sqlite:${file}`, { checkpointer: { restartFrames: 100 } });
    const checkpointer = (db.dataSource as unknown as { checkpointer: Checkpointer }).checkpointer;
    try {
      await db.run('CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
      const body = 'x'.repeat(2000);
      let release: (() => void) | undefined;
      const open = new Promise<void>((r) => (release = r));
      // queued back to back: the frames commit, then a transaction stays open until released
      const frames = db.transaction(async (tx) => {
        for (let j = 0; j < 400; j++) await tx.run('INSERT INTO filler (body) VALUES (?)', [body]);
      });
      const held = db.transaction(async (tx) => {
        await tx.run('INSERT INTO filler (body) VALUES (?)', ['held']);
        await open;
      });
      await frames;
      await new Promise((r) => setTimeout(r, 300));
      // the thread asked long ago (it polls every 20 ms), but the open transaction keeps the restart waiting
      expect(checkpointer.restarts()).toBe(0);
      expect(walFrames(file)).toBeGreaterThan(100);
      // a transaction queued now waits for the restart queued before it: it sees it done when it starts
      let restartsSeen = -1;
      const next = db.transaction(async (tx) => {
        restartsSeen = checkpointer.restarts();
        await tx.run('INSERT INTO filler (body) VALUES (?)', ['next']);
      });
      release!();
      await held;
      await next;
      expect(restartsSeen).toBe(1);
      await db.run('INSERT INTO filler (body) VALUES (?)', ['after']);
      const [{ n }] = await db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM filler');
      expect(n).toBe(403);
      const [row] = await db.rows<{ log: number }>('PRAGMA wal_checkpoint(PASSIVE)');
      expect(row.log).toBeLessThan(10);
    } finally {
      await db.dataSource.destroy();
    }
  });

  it('gives checkpoints back to the serving connection when the thread cannot run', async () => {
    const connection = new Sqlite(path.join(dir, 'serving.sqlite'));
    connection.pragma('journal_mode = WAL');
    const reasons: string[] = [];
    const checkpointer = startCheckpointer(path.join(dir, 'missing', 'nowhere.sqlite'), connection, {
      onFailure: (r) => reasons.push(r),
    });
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
