import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateGroups1764400002000 implements MigrationInterface {
  name = 'CreateGroups1764400002000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'user_groups',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('group_id', 255),
          c.json('traits'),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({ name: 'UQ_user_groups_workspace_group', columnNames: ['workspace_id', 'group_id'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'group_memberships',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('group_id', 255),
          c.string('user_id', 255),
          c.time('created_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_group_memberships_workspace_group_user',
            columnNames: ['workspace_id', 'group_id', 'user_id'],
          }),
        ],
        indices: [
          new TableIndex({ name: 'IDX_group_memberships_workspace_user', columnNames: ['workspace_id', 'user_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('group_memberships');
    await queryRunner.dropTable('user_groups');
  }
}
