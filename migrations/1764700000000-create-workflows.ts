import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';
import { noPadColumns } from './support';

/** Workflows: an editable draft and numbered, immutable published versions (as templates have). */
export class CreateWorkflows1764700000000 implements MigrationInterface {
  name = 'CreateWorkflows1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = await noPadColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'workflows',
        columns: [
          { ...c.string('id', 36), isPrimary: true },
          c.int('workspace_id'),
          c.string('workflow_key', 100),
          // the draft definition: name, topic, cancelKeyPath, window, steps
          c.json('draft'),
          c.int('published_version', { isNullable: true }),
          c.time('created_at'),
          c.time('updated_at'),
        ],
        uniques: [
          new TableUnique({ name: 'UQ_workflows_workspace_key', columnNames: ['workspace_id', 'workflow_key'] }),
        ],
      }),
    );
    // every published version, immutable: a run keeps the version it started with
    await queryRunner.createTable(
      new Table({
        name: 'workflow_versions',
        columns: [c.id(), c.string('workflow_id', 36), c.int('version'), c.json('definition'), c.time('published_at')],
        uniques: [
          new TableUnique({ name: 'UQ_workflow_versions_workflow_version', columnNames: ['workflow_id', 'version'] }),
        ],
        indices: [new TableIndex({ name: 'IDX_workflow_versions_workflow', columnNames: ['workflow_id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('workflow_versions');
    await queryRunner.dropTable('workflows');
  }
}
