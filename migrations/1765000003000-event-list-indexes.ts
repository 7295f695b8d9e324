import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql, noPadBinaryCollation } from './support';

/**
 * The indexes that list a user's events and a name's events, `(workspace_id, user_id, received_at, id)` and
 * `(workspace_id, name, received_at, id)`, also hold what a page of the `events` list shows (type, status,
 * timestamp, name or userId, messageId), so such a page is read from the index alone: a few adjacent index
 * pages instead of one random row page per event, which a buffer pool smaller than the log reads from the
 * disk (bench/README.md, Caveats).
 *
 * An index key holds at most 3,072 bytes and each varchar(255) column counts for 1,020, so the messageId is
 * held as `list_message_id`, a virtual column of its first {@link LIST_CHARS} characters: NULL when it is
 * longer, and the reads then take it from the row (`eventListRead` in `src/domain/event-log/event-filter.ts`).
 * A virtual column takes no room in the rows. The index names stay.
 */
export const LIST_CHARS = 200;

const USER_INDEX = 'IDX_inbound_events_ws_user_received';
const NAME_INDEX = 'IDX_inbound_events_ws_name_received';
const HELD = ['type', 'status', 'timestamp'];
const USER_INDEX_COLUMNS = ['workspace_id', 'user_id', 'received_at', 'id', ...HELD, 'name', 'list_message_id'];
const NAME_INDEX_COLUMNS = ['workspace_id', 'name', 'received_at', 'id', ...HELD, 'user_id', 'list_message_id'];

export class EventListIndexes1765000003000 implements MigrationInterface {
  name = 'EventListIndexes1765000003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) {
      const collation = await noPadBinaryCollation(queryRunner);
      // one statement: the virtual column is instant, the two indexes are rebuilt in place
      await queryRunner.query(
        `ALTER TABLE inbound_events
           ADD COLUMN list_message_id VARCHAR(${LIST_CHARS}) CHARACTER SET utf8mb4 COLLATE ${collation}
             AS (CASE WHEN CHAR_LENGTH(message_id) <= ${LIST_CHARS} THEN message_id END) VIRTUAL,
           DROP INDEX ${USER_INDEX}, ADD INDEX ${USER_INDEX} (${USER_INDEX_COLUMNS.join(', ')}),
           DROP INDEX ${NAME_INDEX}, ADD INDEX ${NAME_INDEX} (${NAME_INDEX_COLUMNS.join(', ')})`,
      );
      return;
    }
    await queryRunner.query(
      `ALTER TABLE inbound_events ADD COLUMN list_message_id TEXT
         GENERATED ALWAYS AS (CASE WHEN length(message_id) <= ${LIST_CHARS} THEN message_id END) VIRTUAL`,
    );
    for (const [index, columns] of [
      [USER_INDEX, USER_INDEX_COLUMNS],
      [NAME_INDEX, NAME_INDEX_COLUMNS],
    ] as const) {
      await queryRunner.query(`DROP INDEX ${index}`);
      await queryRunner.query(`CREATE INDEX ${index} ON inbound_events (${columns.join(', ')})`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (isMysql(queryRunner)) {
      await queryRunner.query(
        `ALTER TABLE inbound_events
           DROP INDEX ${USER_INDEX}, ADD INDEX ${USER_INDEX} (workspace_id, user_id, received_at, id),
           DROP INDEX ${NAME_INDEX}, ADD INDEX ${NAME_INDEX} (workspace_id, name, received_at, id),
           DROP COLUMN list_message_id`,
      );
      return;
    }
    await queryRunner.query(`DROP INDEX ${USER_INDEX}`);
    await queryRunner.query(`DROP INDEX ${NAME_INDEX}`);
    await queryRunner.query(`CREATE INDEX ${USER_INDEX} ON inbound_events (workspace_id, user_id, received_at, id)`);
    await queryRunner.query(`CREATE INDEX ${NAME_INDEX} ON inbound_events (workspace_id, name, received_at, id)`);
    await queryRunner.query('ALTER TABLE inbound_events DROP COLUMN list_message_id');
  }
}
