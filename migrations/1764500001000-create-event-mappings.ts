import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateEventMappings1764500001000 implements MigrationInterface {
  name = 'CreateEventMappings1764500001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'event_mappings',
        columns: [
          { ...c.int('workspace_id'), isPrimary: true },
          { ...c.string('event_name', 255), isPrimary: true },
          c.string('template_id', 36),
          c.time('created_at'),
          c.time('updated_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('event_mappings');
  }
}
