import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateTemplates1764500000000 implements MigrationInterface {
  name = 'CreateTemplates1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'templates',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('template_key', 100),
          c.string('name', 255),
          c.json('channels'),
          c.json('draft'),
          c.int('published_version', { isNullable: true }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({ name: 'UQ_templates_workspace_key', columnNames: ['workspace_id', 'template_key'] }),
        ],
      }),
    );
    // every published version, immutable: messages point at the version they were rendered from
    await queryRunner.createTable(
      new Table({
        name: 'template_versions',
        columns: [
          c.id(),
          c.string('template_id', 36),
          c.int('version'),
          c.json('channels'),
          c.json('content'),
          c.time('published_at'),
        ],
        uniques: [
          new TableUnique({ name: 'UQ_template_versions_template_version', columnNames: ['template_id', 'version'] }),
        ],
        indices: [new TableIndex({ name: 'IDX_template_versions_template', columnNames: ['template_id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('template_versions');
    await queryRunner.dropTable('templates');
  }
}
