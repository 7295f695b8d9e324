import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import { openDatabase } from '../../src/open-database';

/** The embedded default keeps its promise too: an acknowledged event survives a power loss. */
describe('SQLite file database', () => {
  it('runs WAL with synchronous=FULL (not better-sqlite3’s WAL default, NORMAL), also after writes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-sqlite-'));
    const db = await openDatabase(`sqlite:${path.join(dir, 'pigeon.sqlite')}`);
    try {
      // migrations have written by now: better-sqlite3 would have switched to NORMAL with the WAL
      await db.run('INSERT INTO workspaces (name, created_at) VALUES (?, ?)', [
        'durability',
        '2026-01-01 00:00:00.000',
      ]);
      const [{ journal_mode }] = await db.rows<{ journal_mode: string }>('PRAGMA journal_mode');
      const [{ synchronous }] = await db.rows<{ synchronous: number }>('PRAGMA synchronous');
      expect(journal_mode).toBe('wal');
      expect(synchronous).toBe(2); // FULL
      // and an 8 MB page cache instead of better-sqlite3's 16 MB (memory target of the embedded process)
      const [{ cache_size }] = await db.rows<{ cache_size: number }>('PRAGMA cache_size');
      expect(cache_size).toBe(-8000);
    } finally {
      await db.dataSource.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
