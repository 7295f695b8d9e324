import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateProviderConfigs1764500003000 implements MigrationInterface {
  name = 'CreateProviderConfigs1764500003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'provider_configs',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('channel', 16),
          c.string('provider', 64),
          // secret fields are stored encrypted with PIGEON_SECRET (AES-256-GCM)
          c.json('config'),
          c.int('priority', { default: 0 }),
          { name: 'enabled', type: 'boolean', default: true },
          c.time('created_at'),
          c.time('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_provider_configs_workspace_channel', columnNames: ['workspace_id', 'channel'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('provider_configs');
  }
}
