import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateRoutingRules1764500002000 implements MigrationInterface {
  name = 'CreateRoutingRules1764500002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'routing_rules',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('template_id', 36, { isNullable: true }),
          c.string('name', 255),
          c.int('priority', { default: 0 }),
          c.json('condition_tree', { isNullable: true }),
          c.string('action', 16),
          c.string('method', 16, { isNullable: true }),
          c.json('channels', { isNullable: true }),
          { name: 'enabled', type: 'boolean', default: true },
          c.time('created_at'),
          c.time('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'IDX_routing_rules_workspace_template',
            columnNames: ['workspace_id', 'template_id'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('routing_rules');
  }
}
