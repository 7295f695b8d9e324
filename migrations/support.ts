import { TableColumnOptions, type QueryRunner } from 'typeorm';

/**
 * The binary collation the shipped migrations (up to CreateJobs1764500005000) declare keys with.
 * It is PAD SPACE on MariaDB and MySQL: `'k ' = 'k'`, in comparisons and unique keys alike.
 * NoPadBinaryKeys1764600000000 converts those columns to {@link noPadBinaryCollation}.
 */
export const PAD_SPACE_BINARY = 'utf8mb4_bin';

/** True on MySQL/MariaDB, false on SQLite (which compares strings exactly already). */
export function isMysql(queryRunner: QueryRunner): boolean {
  return queryRunner.connection.driver.options.type !== 'better-sqlite3';
}

/**
 * The server's NO PAD binary collation, in which `'k '` and `'k'` are two keys: `utf8mb4_nopad_bin`
 * on MariaDB, `utf8mb4_0900_bin` on MySQL 8 (whichever URL scheme reached it); undefined on SQLite.
 */
export async function noPadBinaryCollation(queryRunner: QueryRunner): Promise<string | undefined> {
  if (!isMysql(queryRunner)) return undefined;
  const [row] = (await queryRunner.query('SELECT VERSION() AS version')) as { version: string }[];
  return String(row.version).includes('MariaDB') ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin';
}

/**
 * Column builders shared by the migrations, so every table is declared once for both engines:
 * MySQL/MariaDB get BIGINT ids, DATETIME(3) and case-sensitive binary keys (a messageId or userId
 * differing only in case is another id); SQLite gets INTEGER ids and text times.
 *
 * `keyCollation` defaults to {@link PAD_SPACE_BINARY}, which the shipped migrations rely on (never change
 * that default: they must keep building the schema they always built). New migrations use
 * {@link noPadColumns}, so their keys do not ignore trailing spaces.
 */
export function columns(queryRunner: QueryRunner, keyCollation: string = PAD_SPACE_BINARY) {
  const mysql = isMysql(queryRunner);
  const binary = mysql ? { charset: 'utf8mb4', collation: keyCollation } : {};
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

/** {@link columns} for new migrations: keys in the server's NO PAD binary collation (`'k '` is not `'k'`). */
export async function noPadColumns(queryRunner: QueryRunner): Promise<ReturnType<typeof columns>> {
  return columns(queryRunner, (await noPadBinaryCollation(queryRunner)) ?? PAD_SPACE_BINARY);
}
