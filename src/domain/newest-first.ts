import { InvalidInputError } from './domain-error';
import { decodeCursor, encodeCursor, type Page } from './pagination';
import type { Sql } from '../db/database';
import { toDbTime } from '../db/dialect';

export interface NewestFirstQuery<Row, T> {
  table: string;
  /** The columns to select (`*` when absent). */
  columns?: string;
  /** The time column the list is ordered by (`received_at`, `created_at`). */
  timeColumn: string;
  /** Conditions already built, joined with AND, and their parameters. */
  where: string[];
  params: unknown[];
  first: number;
  after?: string | null;
  toItem: (row: Row) => T;
  /** What an id of this table looks like; a cursor with another id is refused. */
  idPattern: RegExp;
  /** The keyset of an item: its time and id. */
  keyOf: (item: T) => { time: Date; id: string };
}

const DB_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

/**
 * A page of a list ordered newest first by (time, id), with keyset cursors that stay stable while
 * rows are inserted (never OFFSET, which skips or repeats rows when new ones arrive). The cursor encodes both the time and the id.
 */
export async function newestFirstPage<Row, T>(sql: Sql, q: NewestFirstQuery<Row, T>): Promise<Page<T>> {
  const where = [...q.where];
  const params = [...q.params];
  if (q.after) {
    const [time, id] = decodeCursor(q.after, 2);
    if (typeof time !== 'string' || !DB_TIME.test(time) || typeof id !== 'string' || !q.idPattern.test(id)) {
      throw new InvalidInputError('after is not a cursor of this list');
    }
    where.push(`${q.timeColumn} <= ? AND (${q.timeColumn} < ? OR id < ?)`);
    params.push(time, time, id);
  }
  const rows = await sql.rows<Row>(
    `SELECT ${q.columns ?? '*'} FROM ${q.table} WHERE ${where.join(' AND ')} ORDER BY ${q.timeColumn} DESC, id DESC LIMIT ${q.first + 1}`,
    params,
  );
  return {
    items: rows.slice(0, q.first).map(q.toItem),
    hasNextPage: rows.length > q.first,
    cursorOf: (item) => {
      const { time, id } = q.keyOf(item);
      return encodeCursor([toDbTime(time), id]);
    },
  };
}
