import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { columns } from './support';

export class CreateJobs1764500005000 implements MigrationInterface {
  name = 'CreateJobs1764500005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'jobs',
        columns: [
          c.id(),
          c.int('workspace_id'),
          c.string('kind', 32),
          c.string('message_id', 36),
          // `ready` until run_at; `running` while leased, and then run_at is the end of the lease,
          // so a crashed worker's job is due again when its lease runs out. Finished jobs are deleted.
          c.string('status', 16),
          c.time('run_at'),
          c.string('locked_by', 100, { isNullable: true }),
          c.int('runs', { default: 0 }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        indices: [
          new TableIndex({ name: 'IDX_jobs_run_at', columnNames: ['run_at'] }),
          new TableIndex({ name: 'IDX_jobs_message', columnNames: ['message_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('jobs');
  }
}
