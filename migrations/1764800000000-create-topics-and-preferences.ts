import { Table, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { noPadColumns } from './support';

/** Topics and users' preferences (README, "Preferences and topics"). */
export class CreateTopicsAndPreferences1764800000000 implements MigrationInterface {
  name = 'CreateTopicsAndPreferences1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = await noPadColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'topics',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('topic_key', 100),
          c.string('name', 255),
          c.string('default_state', 16),
          { name: 'commercial', type: 'boolean', default: false },
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'UQ_topics_workspace_key', columnNames: ['workspace_id', 'topic_key'] })],
      }),
    );
    // '' in topic_key / channel means all topics / all channels (a NULL would not take part in the unique key);
    // the unique key also serves the pipeline's lookup by (workspace, user)
    await queryRunner.createTable(
      new Table({
        name: 'preferences',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('user_id', 255),
          c.string('topic_key', 100),
          c.string('channel', 16),
          c.string('state', 16),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_preferences_workspace_user_topic_channel',
            columnNames: ['workspace_id', 'user_id', 'topic_key', 'channel'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('preferences');
    await queryRunner.dropTable('topics');
  }
}
