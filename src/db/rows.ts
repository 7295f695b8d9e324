import type { Sql } from './database';

/**
 * The repeated SQL shapes, written once: chunking a long list, multi-row INSERTs of at most
 * {@link CHUNK_ROWS} rows per statement, UPDATEs of many rows by id, and reading a JSON column whatever the
 * driver returns.
 */

/** Rows per multi-row statement (and ids per `IN (…)` list): well under every engine's parameter limit. */
export const CHUNK_ROWS = 500;

/** `items` in consecutive slices of at most `size`. */
export function* chunks<T>(items: readonly T[], size = CHUNK_ROWS): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** `?, ?, ?` for `n` parameters (an `IN (…)` list or one row of values). */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * Inserts `rows` into `table` in statements of at most {@link CHUNK_ROWS} rows: `columns` name the
 * columns, `values(row)` gives one row's parameters in that order, and `suffix` (e.g. an upsert's
 * `ON CONFLICT …` / `ON DUPLICATE KEY UPDATE …`) is appended to each statement. Returns the rows changed.
 */
export async function insertRows<T>(
  sql: Sql,
  table: string,
  columns: readonly string[],
  rows: readonly T[],
  values: (row: T) => unknown[],
  suffix = '',
): Promise<number> {
  let changed = 0;
  const one = `(${placeholders(columns.length)})`;
  for (const part of chunks(rows)) {
    changed += await sql.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${part.map(() => one).join(', ')}${suffix ? ` ${suffix}` : ''}`,
      part.flatMap(values),
    );
  }
  return changed;
}

/** A JSON column's value: MariaDB and SQLite return the text, MySQL the parsed value. */
export function parseJsonColumn<T = unknown>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** A parameter as prepared statements take it (they refuse `undefined`). */
export const orNull = (v: unknown) => (v === undefined ? null : v);

/** Rows per {@link updateById} statement (its `CASE id` lists grow with it). */
const UPDATE_CHUNK = 200;

/** Columns {@link updateById} writes: each column and its value from a row in memory. */
export type ColumnValues<T> = readonly (readonly [string, (row: T) => unknown])[];

/**
 * Writes `columns` of stored rows of `table` by their `id`: one `UPDATE … WHERE id IN (…)` per
 * {@link UPDATE_CHUNK} rows, a value the rows share set once and the others by `CASE id`. Only these
 * columns travel, and a row that is gone stays gone (an upsert would bring it back).
 */
export async function updateById<T extends { id: string }>(
  tx: Sql,
  table: string,
  columns: ColumnValues<T>,
  rows: readonly T[],
): Promise<void> {
  for (const part of chunks(rows, UPDATE_CHUNK)) {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [column, valueOf] of columns) {
      const values = part.map(valueOf);
      if (values.every((v) => v === values[0])) {
        sets.push(`${column} = ?`);
        params.push(values[0]);
      } else {
        sets.push(`${column} = CASE id${' WHEN ? THEN ?'.repeat(part.length)} END`);
        part.forEach((row, i) => params.push(row.id, values[i]));
      }
    }
    await tx.runPrepared(`UPDATE ${table} SET ${sets.join(', ')} WHERE id IN (${placeholders(part.length)})`, [
      ...params.map(orNull),
      ...part.map((row) => row.id),
    ]);
  }
}
