import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { noPadColumns } from './support';

/** A template's optional topic: on the draft (`templates.topic`) and frozen with each published version. */
export class AddTemplateTopic1764800001000 implements MigrationInterface {
  name = 'AddTemplateTopic1764800001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = await noPadColumns(queryRunner);
    await queryRunner.addColumn('templates', new TableColumn(c.string('topic', 100, { isNullable: true })));
    await queryRunner.addColumn('template_versions', new TableColumn(c.string('topic', 100, { isNullable: true })));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('template_versions', 'topic');
    await queryRunner.dropColumn('templates', 'topic');
  }
}
