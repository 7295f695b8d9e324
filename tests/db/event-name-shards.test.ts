import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/db/data-source-options';
import { MIGRATIONS } from '../../migrations';
import { ownDatabase } from '../helpers/own-database';
import { startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * `event_names` counters are sharded (migration EventNameShards1765000002000): group commits running at
 * once count into different shards, and `eventNames` sums them. The counts stay exact, and the migration
 * keeps the counters it finds, both ways.
 */
describe('event name counters in shards', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('concurrent batch requests count every stored track exactly once, duplicates not at all', async () => {
    const ws = await t.newWorkspace();
    const names = ['Shard One', 'Shard Two', 'Shard Three'];
    const batches = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 100 }, (_, i) => ({
        type: 'track',
        userId: uid('u'),
        event: names[(b + i) % 3],
        messageId: `${ws.name}-${b}-${i}`,
      })),
    );
    // all at once (on MariaDB they commit in overlapping transactions), then all again: duplicates
    for (let round = 0; round < 2; round++) {
      const answers = await Promise.all(batches.map((batch) => t.send('/v1/batch', { batch }, ws.ingestKey)));
      expect(answers.map((a) => a.statusCode)).toEqual(batches.map(() => 200));
    }
    const res = await t.gql('{ eventNames { name count lastSeenAt } }', {}, ws.adminKey);
    expect(res.errors).toBeUndefined();
    const expected = names
      .map((n) => ({
        name: `Segment-TrackEvent:${n}`,
        count: batches.flat().filter((e) => e.event === n).length,
        lastSeenAt: expect.any(String),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(res.data!.eventNames).toEqual(expected);
    expect(expected.reduce((s, e) => s + e.count, 0)).toBe(1200);
  });

  describe('the migration', () => {
    let url: string;
    let dropDatabase: (() => Promise<void>) | undefined;
    beforeEach(async () => {
      // a database of its own: the shared test database is migrated already
      const own = await ownDatabase('pigeon_mig');
      url = own.url;
      dropDatabase = own.drop;
    });
    afterEach(async () => {
      await dropDatabase?.();
      dropDatabase = undefined;
    });

    const open = async (migrations: typeof MIGRATIONS) => {
      const ds = new DataSource({ ...dataSourceOptions(url), migrations } as never);
      await ds.initialize();
      return ds;
    };
    const counters = async (ds: DataSource) =>
      (
        (await ds.query(
          'SELECT workspace_id, name, event_count, last_seen_at FROM event_names ORDER BY workspace_id, name',
        )) as { workspace_id: unknown; name: string; event_count: unknown; last_seen_at: unknown }[]
      ).map((r) => [
        Number(r.workspace_id),
        r.name,
        Number(r.event_count),
        (r.last_seen_at instanceof Date
          ? r.last_seen_at.toISOString().replace('T', ' ')
          : String(r.last_seen_at)
        ).slice(0, 19),
      ]);

    it('keeps the counters it finds as shard 0, and folds the shards back when undone', async () => {
      const at = MIGRATIONS.findIndex((m) => m.name === 'EventNameShards1765000002000');
      expect(at).toBeGreaterThan(0);
      const before = await open(MIGRATIONS.slice(0, at));
      await before.runMigrations();
      await before.query(
        `INSERT INTO event_names (workspace_id, name, event_count, last_seen_at) VALUES
         (1, 'Segment-TrackEvent:A', 5, '2026-01-01 10:00:00.000'), (1, 'Segment-TrackEvent:B', 7, '2026-01-02 10:00:00.000'),
         (2, 'Segment-TrackEvent:A', 1, '2026-01-03 10:00:00.000')`,
      );
      const original = await counters(before);
      await before.destroy();

      // up to this migration only, so that undoing the last one undoes this one
      const after = await open(MIGRATIONS.slice(0, at + 1));
      await after.runMigrations();
      expect(await counters(after)).toEqual(original);
      const shards = (await after.query('SELECT DISTINCT shard FROM event_names')) as { shard: unknown }[];
      expect(shards.map((s) => Number(s.shard))).toEqual([0]);
      // a second shard of a name, as concurrent ingest writes it: the key allows it, and undoing sums it
      await after.query(
        `INSERT INTO event_names (workspace_id, name, shard, event_count, last_seen_at)
         VALUES (1, 'Segment-TrackEvent:A', 7, 3, '2026-01-05 10:00:00.000')`,
      );
      await after.undoLastMigration();
      expect(await counters(after)).toEqual([
        [1, 'Segment-TrackEvent:A', 8, '2026-01-05 10:00:00'],
        [1, 'Segment-TrackEvent:B', 7, '2026-01-02 10:00:00'],
        [2, 'Segment-TrackEvent:A', 1, '2026-01-03 10:00:00'],
      ]);
      await expect(
        after.query(
          "INSERT INTO event_names (workspace_id, name, event_count, last_seen_at) VALUES (1, 'Segment-TrackEvent:A', 1, '2026-01-01 10:00:00.000')",
        ),
      ).rejects.toThrow();
      await after.destroy();
    });
  });
});
