import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateMessages1764500004000 implements MigrationInterface {
  name = 'CreateMessages1764500004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    const byCreated = (name: string, first: string[]) =>
      new TableIndex({ name, columnNames: ['workspace_id', ...first, 'created_at', 'id'] });
    await queryRunner.createTable(
      new Table({
        name: 'messages',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('status', 16),
          c.string('reason', 64, { isNullable: true }),
          c.string('template_id', 36, { isNullable: true }),
          c.int('template_version', { isNullable: true }),
          c.bigint('event_id', { isNullable: true }),
          c.string('event_name', 255, { isNullable: true }),
          c.string('user_id', 255),
          c.json('data'),
          c.string('channel', 16, { isNullable: true }),
          c.json('plan', { isNullable: true }),
          c.string('idempotency_key', 255, { isNullable: true }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_messages_workspace_idempotency',
            columnNames: ['workspace_id', 'idempotency_key'],
          }),
        ],
        indices: [
          byCreated('IDX_messages_ws_created', []),
          byCreated('IDX_messages_ws_status_created', ['status']),
          byCreated('IDX_messages_ws_user_created', ['user_id']),
          byCreated('IDX_messages_ws_template_created', ['template_id']),
          byCreated('IDX_messages_ws_event_created', ['event_name']),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'message_history',
        columns: [c.id(), c.string('message_id', 36), c.time('at'), c.string('type', 32), c.json('detail')],
        indices: [new TableIndex({ name: 'IDX_message_history_message', columnNames: ['message_id', 'id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'deliveries',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.string('message_id', 36),
          c.string('channel', 16),
          c.string('provider_config_id', 36),
          c.string('provider', 64),
          c.string('status', 16),
          c.int('attempts', { default: 0 }),
          c.string('last_error', 1000, { isNullable: true }),
          c.string('external_id', 255, { isNullable: true }),
          c.time('sent_at', { isNullable: true }),
          c.time('next_attempt_at', { isNullable: true }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_deliveries_message_channel_config',
            columnNames: ['message_id', 'channel', 'provider_config_id'],
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('deliveries');
    await queryRunner.dropTable('message_history');
    await queryRunner.dropTable('messages');
  }
}
