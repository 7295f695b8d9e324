import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateInboundEvents1764400003000 implements MigrationInterface {
  name = 'CreateInboundEvents1764400003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    const byReceived = (name: string, first: string[]) =>
      new TableIndex({ name, columnNames: ['workspace_id', ...first, 'received_at', 'id'] });
    await queryRunner.createTable(
      new Table({
        name: 'inbound_events',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('message_id', 255),
          c.string('type', 16),
          c.string('name', 255, { isNullable: true }),
          c.string('user_id', 255, { isNullable: true }),
          c.string('anonymous_id', 255, { isNullable: true }),
          c.string('status', 16),
          c.json('payload'),
          c.time('timestamp'),
          c.time('received_at'),
          c.string('message_ref', 36, { isNullable: true }),
        ],
        uniques: [
          new TableUnique({ name: 'UQ_inbound_events_workspace_message', columnNames: ['workspace_id', 'message_id'] }),
        ],
        indices: [
          byReceived('IDX_inbound_events_ws_received', []),
          byReceived('IDX_inbound_events_ws_name_received', ['name']),
          byReceived('IDX_inbound_events_ws_status_received', ['status']),
          byReceived('IDX_inbound_events_ws_user_received', ['user_id']),
          byReceived('IDX_inbound_events_ws_type_received', ['type']),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'event_names',
        columns: [
          { ...c.int('workspace_id'), isPrimary: true },
          { ...c.string('name', 255), isPrimary: true },
          c.bigint('event_count'),
          c.time('last_seen_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('event_names');
    await queryRunner.dropTable('inbound_events');
  }
}
