import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql, noPadBinaryCollation, PAD_SPACE_BINARY } from './support';

/**
 * Keys compare exactly on MySQL/MariaDB too: every column in `utf8mb4_bin` (a PAD SPACE collation, where
 * `'m1 ' = 'm1'` in comparisons and unique keys) moves to the server's NO PAD binary collation
 * (`utf8mb4_nopad_bin` on MariaDB, `utf8mb4_0900_bin` on MySQL 8), so a messageId, userId or
 * idempotencyKey with a trailing space is another id, as it always was on SQLite. SQLite: nothing to do.
 *
 * The columns are found in information_schema, not listed here; each keeps its type, nullability,
 * default and comment, and each table is rebuilt once. Left alone: MariaDB's JSON columns (LONGTEXT
 * in utf8mb4_bin with a `json_valid` CHECK that a MODIFY would drop; they are never compared as keys)
 * and generated columns. `down()` moves the same columns back to `utf8mb4_bin`; it fails on a unique
 * key when two rows now differ only by trailing spaces.
 */
export class NoPadBinaryKeys1764600000000 implements MigrationInterface {
  name = 'NoPadBinaryKeys1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const noPad = await noPadBinaryCollation(queryRunner);
    if (noPad) await convertCollation(queryRunner, PAD_SPACE_BINARY, noPad);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const noPad = await noPadBinaryCollation(queryRunner);
    if (noPad) await convertCollation(queryRunner, noPad, PAD_SPACE_BINARY);
  }
}

interface ColumnRow {
  TABLE_NAME: string;
  COLUMN_NAME: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: 'YES' | 'NO';
  COLUMN_DEFAULT: string | null;
  COLUMN_COMMENT: string;
  EXTRA: string;
  CHARACTER_SET_NAME: string;
}

const quoteName = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const quoteText = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** `ALTER TABLE … MODIFY` of every column of this database in collation `from` (one statement per table). */
async function convertCollation(queryRunner: QueryRunner, from: string, to: string): Promise<void> {
  if (!isMysql(queryRunner)) return;
  const [{ version }] = (await queryRunner.query('SELECT VERSION() AS version')) as { version: string }[];
  const mariadb = String(version).includes('MariaDB');
  const rows = (await queryRunner.query(
    `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT, EXTRA, CHARACTER_SET_NAME
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND COLLATION_NAME = ? AND COALESCE(GENERATION_EXPRESSION, '') = ''
      ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [from],
  )) as ColumnRow[];
  // MariaDB's JSON is LONGTEXT in utf8mb4_bin plus a column CHECK named after the column (MySQL's JSON has no collation)
  const json = new Set<string>();
  if (mariadb) {
    const checks = (await queryRunner.query(
      `SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA = DATABASE() AND LEVEL = 'Column' AND CHECK_CLAUSE LIKE 'json_valid(%'`,
    )) as { TABLE_NAME: string; CONSTRAINT_NAME: string }[];
    for (const c of checks) json.add(`${c.TABLE_NAME}.${c.CONSTRAINT_NAME}`);
  }

  const byTable = new Map<string, string[]>();
  for (const c of rows) {
    if (json.has(`${c.TABLE_NAME}.${c.COLUMN_NAME}`)) continue;
    byTable.set(c.TABLE_NAME, [...(byTable.get(c.TABLE_NAME) ?? []), `MODIFY ${definition(c, to, mariadb)}`]);
  }
  for (const [table, modifications] of byTable) {
    await queryRunner.query(`ALTER TABLE ${quoteName(table)} ${modifications.join(', ')}`);
  }
}

/** The column as it is, in collation `to`. */
function definition(c: ColumnRow, to: string, mariadb: boolean): string {
  const parts = [quoteName(c.COLUMN_NAME), c.COLUMN_TYPE, `CHARACTER SET ${c.CHARACTER_SET_NAME} COLLATE ${to}`];
  parts.push(c.IS_NULLABLE === 'YES' ? 'NULL' : 'NOT NULL');
  if (c.COLUMN_DEFAULT !== null) {
    // MariaDB reports the default as SQL (`'a'`, `NULL`, `uuid()`); MySQL as the bare value, or an expression
    const sql = mariadb
      ? c.COLUMN_DEFAULT
      : /DEFAULT_GENERATED/i.test(c.EXTRA)
        ? `(${c.COLUMN_DEFAULT})`
        : quoteText(c.COLUMN_DEFAULT);
    parts.push(`DEFAULT ${sql}`);
  }
  if (c.COLUMN_COMMENT) parts.push(`COMMENT ${quoteText(c.COLUMN_COMMENT)}`);
  return parts.join(' ');
}
