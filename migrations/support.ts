import { TableColumnOptions, type QueryRunner } from 'typeorm';

/**
 * Column builders shared by the migrations, so every table is declared once for both engines:
 * MySQL/MariaDB get BIGINT ids, DATETIME(3) and case-sensitive utf8mb4_bin keys (a messageId
 * or userId differing only in case is another id); SQLite gets INTEGER ids and text times.
 */
export function columns(queryRunner: QueryRunner) {
  const mysql = queryRunner.connection.driver.options.type !== 'better-sqlite3';
  const binary = mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {};
  return {
    mysql,
    id: (name = 'id'): TableColumnOptions => ({
      name,
      type: mysql ? 'bigint' : 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
    }),
    intId: (name = 'id'): TableColumnOptions => ({
      name,
      type: 'integer',
      isPrimary: true,
      isGenerated: true,
      generationStrategy: 'increment',
    }),
    int: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'int',
      ...extra,
    }),
    bigint: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'bigint',
      ...extra,
    }),
    string: (name: string, length: number, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      ...binary,
      ...extra,
    }),
    json: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'json',
      ...extra,
    }),
    time: (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type: 'datetime',
      precision: 3,
      ...extra,
    }),
  };
}
