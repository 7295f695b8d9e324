import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateWorkspacesAndApiKeys1764400000000 implements MigrationInterface {
  name = 'CreateWorkspacesAndApiKeys1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'workspaces',
        columns: [c.intId(), c.string('name', 100), c.time('created_at')],
        uniques: [new TableUnique({ name: 'UQ_workspaces_name', columnNames: ['name'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('name', 100, { isNullable: true }),
          c.string('prefix', 16),
          c.string('secret_hash', 64),
          c.string('scope', 10),
          c.time('created_at'),
          c.time('last_used_at', { isNullable: true }),
          c.time('revoked_at', { isNullable: true }),
        ],
        indices: [
          new TableIndex({ name: 'IDX_api_keys_prefix', columnNames: ['prefix'] }),
          new TableIndex({ name: 'IDX_api_keys_workspace', columnNames: ['workspace_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('api_keys');
    await queryRunner.dropTable('workspaces');
  }
}
