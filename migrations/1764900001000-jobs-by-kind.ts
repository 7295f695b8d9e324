import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The job queue's due-job index by kind first: sends are claimed with a lease and workflow runs inside the
 * runner's transaction, each by its own query (`kind = ? AND run_at <= ? ORDER BY run_at`), so a backlog of
 * due runs is never scanned by a send claim, nor due sends by the runner.
 */
export class JobsByKind1764900001000 implements MigrationInterface {
  name = 'JobsByKind1764900001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'jobs',
      new TableIndex({ name: 'IDX_jobs_kind_run_at', columnNames: ['kind', 'run_at'] }),
    );
    await queryRunner.dropIndex('jobs', 'IDX_jobs_run_at');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('jobs', new TableIndex({ name: 'IDX_jobs_run_at', columnNames: ['run_at'] }));
    await queryRunner.dropIndex('jobs', 'IDX_jobs_kind_run_at');
  }
}
