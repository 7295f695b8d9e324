import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns, isMysql } from './support';

/**
 * `event_names` counters split into shards (`shard` joins the primary key). Concurrent ingest transactions
 * add to different rows of the same name instead of waiting for each other's row lock until commit (every
 * transaction of a busy workspace counts the same few names); `eventNames` sums the shards. Existing
 * counters become shard 0.
 */
export class EventNameShards1765000002000 implements MigrationInterface {
  name = 'EventNameShards1765000002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) {
      await queryRunner.query(
        'ALTER TABLE event_names ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0, DROP PRIMARY KEY, ADD PRIMARY KEY (workspace_id, name, shard)',
      );
      return;
    }
    // SQLite cannot change a primary key: the table is rebuilt with the new one
    await this.rebuildSqlite(queryRunner, true);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) {
      // one row per name again: the shards are summed into shard 0 first
      await queryRunner.query(
        `UPDATE event_names e JOIN (
           SELECT workspace_id, name, SUM(event_count) AS n, MAX(last_seen_at) AS last FROM event_names GROUP BY workspace_id, name
         ) t ON t.workspace_id = e.workspace_id AND t.name = e.name
         SET e.event_count = t.n, e.last_seen_at = t.last WHERE e.shard = 0`,
      );
      await queryRunner.query('DELETE FROM event_names WHERE shard <> 0');
      await queryRunner.query(
        'ALTER TABLE event_names DROP PRIMARY KEY, ADD PRIMARY KEY (workspace_id, name), DROP COLUMN shard',
      );
      return;
    }
    await this.rebuildSqlite(queryRunner, false);
  }

  /** Rebuilds `event_names` on SQLite with (`sharded`) or without the shard column, its counts kept (summed). */
  private async rebuildSqlite(queryRunner: QueryRunner, sharded: boolean): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'event_names_rebuilt',
        columns: [
          { ...c.int('workspace_id'), isPrimary: true },
          { ...c.string('name', 255), isPrimary: true },
          ...(sharded ? [{ name: 'shard', type: 'smallint', default: 0, isPrimary: true }] : []),
          c.bigint('event_count'),
          c.time('last_seen_at'),
        ],
      }),
    );
    await queryRunner.query(
      sharded
        ? `INSERT INTO event_names_rebuilt (workspace_id, name, shard, event_count, last_seen_at)
           SELECT workspace_id, name, 0, event_count, last_seen_at FROM event_names`
        : `INSERT INTO event_names_rebuilt (workspace_id, name, event_count, last_seen_at)
           SELECT workspace_id, name, SUM(event_count), MAX(last_seen_at) FROM event_names GROUP BY workspace_id, name`,
    );
    await queryRunner.dropTable('event_names');
    await queryRunner.renameTable('event_names_rebuilt', 'event_names');
  }
}
