import { Table, TableColumn, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { noPadBinaryCollation, noPadColumns } from './support';

/**
 * Workflow runs (README, "Workflows"; docs/architecture.md, "Workflow runs"): the runs and their history,
 * the throttle counters, the digest buckets and their items, cancel mappings; event mappings may name a
 * workflow instead of a template; a message remembers the run (and step options) that created it.
 *
 * One open digest bucket per (workflow, step, recipient, key value) is a database rule: `open_key` holds
 * the bucket's identity while it is open and NULL once closed, and is unique (NULLs never collide) —
 * a generated column on MySQL/MariaDB, a partial unique index on SQLite.
 */
export class CreateWorkflowRuns1764700001000 implements MigrationInterface {
  name = 'CreateWorkflowRuns1764700001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = await noPadColumns(queryRunner);

    // a mapping sends a template or starts a workflow: exactly one of the two
    await queryRunner.changeColumn(
      'event_mappings',
      'template_id',
      new TableColumn(c.string('template_id', 36, { isNullable: true })),
    );
    await queryRunner.addColumn('event_mappings', new TableColumn(c.string('workflow_id', 36, { isNullable: true })));

    await queryRunner.createTable(
      new Table({
        name: 'cancel_mappings',
        columns: [
          c.int('workspace_id'),
          c.string('event_name', 255),
          c.string('workflow_id', 36),
          c.string('key_path', 255),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_cancel_mappings_name_workflow',
            columnNames: ['workspace_id', 'event_name', 'workflow_id'],
          }),
        ],
      }),
    );

    await queryRunner.addColumns('messages', [
      new TableColumn(c.string('run_id', 36, { isNullable: true })),
      // a send step's channels/method (replacing the template's defaults) and the digest it renders
      new TableColumn(c.json('send_options', { isNullable: true })),
    ]);
    await queryRunner.createIndex('messages', new TableIndex({ name: 'IDX_messages_run', columnNames: ['run_id'] }));

    const byCreated = (name: string, first: string[]) =>
      new TableIndex({ name, columnNames: ['workspace_id', ...first, 'created_at', 'id'] });
    await queryRunner.createTable(
      new Table({
        name: 'workflow_runs',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('workflow_id', 36),
          // the published version the run started with (null: the workflow was not published)
          c.int('version', { isNullable: true }),
          c.string('user_id', 255),
          c.bigint('event_id', { isNullable: true }),
          // what identifies the run's trigger as a digest item: the event's Segment messageId, else the run id
          c.string('source_key', 255),
          c.json('data'),
          c.string('status', 16),
          c.string('reason', 64, { isNullable: true }),
          // the index of the step the run is at (waiting on, or next to run)
          c.int('step_index', { default: 0 }),
          c.string('step_ref', 64, { isNullable: true }),
          c.time('resume_at', { isNullable: true }),
          c.string('cancel_key', 255, { isNullable: true }),
          c.string('idempotency_key', 255, { isNullable: true }),
          // the recipient's zone once resolved, and the triggering event's context.timezone
          c.string('timezone', 64, { isNullable: true }),
          c.string('event_timezone', 64, { isNullable: true }),
          c.json('digest', { isNullable: true }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({
            name: 'UQ_workflow_runs_idempotency',
            columnNames: ['workflow_id', 'idempotency_key'],
          }),
        ],
        indices: [
          byCreated('IDX_workflow_runs_ws_created', []),
          byCreated('IDX_workflow_runs_ws_status_created', ['status']),
          byCreated('IDX_workflow_runs_ws_user_created', ['user_id']),
          byCreated('IDX_workflow_runs_ws_workflow_created', ['workflow_id']),
          new TableIndex({ name: 'IDX_workflow_runs_cancel', columnNames: ['workflow_id', 'cancel_key'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'workflow_run_history',
        columns: [c.id(), c.string('run_id', 36), c.time('at'), c.string('type', 32), c.json('detail')],
        indices: [new TableIndex({ name: 'IDX_workflow_run_history_run', columnNames: ['run_id', 'id'] })],
      }),
    );
    // one row per throttle identity (sha256 of workflow, step, recipient, key value), locked while a run is
    // admitted, and the admissions it counts inside the window
    await queryRunner.createTable(
      new Table({
        name: 'workflow_throttles',
        columns: [{ ...c.string('id', 64), isPrimary: true }, c.int('workspace_id'), c.time('updated_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'workflow_throttle_admissions',
        columns: [c.id(), c.string('throttle_id', 64), c.string('run_id', 36), c.time('at')],
        indices: [new TableIndex({ name: 'IDX_workflow_throttle_admissions', columnNames: ['throttle_id', 'at'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'workflow_digests',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          // sha256 of (workflow, step, recipient, key value): the bucket's identity
          c.string('bucket_key', 64),
          c.string('collector_run_id', 36),
          c.string('status', 16),
          c.int('item_count', { default: 0 }),
          c.time('opened_at'),
          c.time('close_at'),
          c.time('max_close_at'),
          c.time('first_at'),
          c.time('last_at'),
          c.string('closed_by', 16, { isNullable: true }),
          c.time('updated_at'),
        ],
        indices: [new TableIndex({ name: 'IDX_workflow_digests_collector', columnNames: ['collector_run_id'] })],
      }),
    );
    if (c.mysql) {
      await queryRunner.query(
        `ALTER TABLE workflow_digests ADD COLUMN open_key VARCHAR(64) CHARACTER SET utf8mb4 COLLATE ${await noPadBinaryCollation(queryRunner)}
          AS (CASE WHEN status = 'open' THEN bucket_key END) STORED, ADD UNIQUE KEY UQ_workflow_digests_open (open_key)`,
      );
    } else {
      await queryRunner.query(
        "CREATE UNIQUE INDEX UQ_workflow_digests_open ON workflow_digests (bucket_key) WHERE status = 'open'",
      );
    }
    await queryRunner.createTable(
      new Table({
        name: 'workflow_digest_items',
        columns: [
          c.id(),
          c.string('digest_id', 36),
          // the Segment messageId of the run's event (else the run id): a retried event is one item
          c.string('item_key', 255),
          c.string('run_id', 36),
          c.json('data'),
          c.time('at'),
        ],
        uniques: [new TableUnique({ name: 'UQ_workflow_digest_items', columnNames: ['digest_id', 'item_key'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'workflow_digest_items',
      'workflow_digests',
      'workflow_throttle_admissions',
      'workflow_throttles',
      'workflow_run_history',
      'workflow_runs',
      'cancel_mappings',
    ])
      await queryRunner.dropTable(table);
    await queryRunner.dropIndex('messages', 'IDX_messages_run');
    await queryRunner.dropColumn('messages', 'send_options');
    await queryRunner.dropColumn('messages', 'run_id');
    await queryRunner.dropColumn('event_mappings', 'workflow_id');
  }
}
