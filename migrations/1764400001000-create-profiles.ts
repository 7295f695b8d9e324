import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateProfiles1764400001000 implements MigrationInterface {
  name = 'CreateProfiles1764400001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'profiles',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('user_id', 255),
          c.json('traits'),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [new TableUnique({ name: 'UQ_profiles_workspace_user', columnNames: ['workspace_id', 'user_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'profile_aliases',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('anonymous_id', 255),
          c.string('user_id', 255),
          c.time('created_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_profile_aliases_workspace_anonymous',
            columnNames: ['workspace_id', 'anonymous_id'],
          }),
        ],
        indices: [
          new TableIndex({ name: 'IDX_profile_aliases_workspace_user', columnNames: ['workspace_id', 'user_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('profile_aliases');
    await queryRunner.dropTable('profiles');
  }
}
