import { randomBytes } from 'node:crypto';
import { Table, TableColumn, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { noPadColumns } from './support';

/**
 * Delivery outcomes (README, "Delivery tracking"): each provider configuration's opaque callback id,
 * the stored provider callbacks (de-duplicated by the provider's event id, applied by the workers),
 * delivery times reported by providers, and suppressed addresses with the soft bounces that lead to them.
 */
export class CreateDeliveryOutcomes1764900000000 implements MigrationInterface {
  name = 'CreateDeliveryOutcomes1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = await noPadColumns(queryRunner);

    await queryRunner.addColumn('provider_configs', new TableColumn(c.string('callback_id', 48, { isNullable: true })));
    const configs = (await queryRunner.query('SELECT id FROM provider_configs')) as { id: string }[];
    for (const { id } of configs) {
      await queryRunner.query('UPDATE provider_configs SET callback_id = ? WHERE id = ?', [newCallbackId(), id]);
    }
    await queryRunner.createIndex(
      'provider_configs',
      new TableIndex({ name: 'UQ_provider_configs_callback_id', columnNames: ['callback_id'], isUnique: true }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'provider_callbacks',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('provider_config_id', 36),
          c.string('provider', 64),
          c.string('channel', 16),
          c.string('event_id', 255),
          c.string('external_id', 255, { isNullable: true }),
          c.string('outcome', 32),
          c.time('happened_at'),
          c.string('reason', 1000, { isNullable: true }),
          c.string('error_code', 32, { isNullable: true }),
          c.json('raw'),
          c.time('received_at'),
          c.time('applied_at', { isNullable: true }),
          c.string('result', 32, { isNullable: true }),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_provider_callbacks_config_event',
            columnNames: ['provider_config_id', 'event_id'],
          }),
        ],
        indices: [new TableIndex({ name: 'IDX_provider_callbacks_pending', columnNames: ['applied_at', 'id'] })],
      }),
    );

    for (const name of ['delivered_at', 'opened_at', 'clicked_at']) {
      await queryRunner.addColumn('deliveries', new TableColumn(c.time(name, { isNullable: true })));
    }
    await queryRunner.createIndex(
      'deliveries',
      new TableIndex({ name: 'IDX_deliveries_config_external', columnNames: ['provider_config_id', 'external_id'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'suppressions',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('channel', 16),
          c.string('address', 320),
          c.string('reason', 100),
          c.time('created_at'),
          c.time('expires_at', { isNullable: true }),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_suppressions_workspace_channel_address',
            columnNames: ['workspace_id', 'channel', 'address'],
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'soft_bounces',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('channel', 16),
          c.string('address', 320),
          c.string('delivery_id', 36),
          c.time('bounced_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_soft_bounces_address_delivery',
            columnNames: ['workspace_id', 'channel', 'address', 'delivery_id'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('soft_bounces');
    await queryRunner.dropTable('suppressions');
    await queryRunner.dropIndex('deliveries', 'IDX_deliveries_config_external');
    for (const name of ['clicked_at', 'opened_at', 'delivered_at']) await queryRunner.dropColumn('deliveries', name);
    await queryRunner.dropTable('provider_callbacks');
    await queryRunner.dropIndex('provider_configs', 'UQ_provider_configs_callback_id');
    await queryRunner.dropColumn('provider_configs', 'callback_id');
  }
}

/** An unguessable id for a provider configuration's callback URL (`/hooks/<id>`); 144 random bits. */
function newCallbackId(): string {
  return randomBytes(18).toString('base64url');
}
