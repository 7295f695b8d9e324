import { deletedPaths, mergePatch } from '../lib/json';
import type { DriverKind } from './data-source-options';

/**
 * The SQL that differs between MySQL/MariaDB and SQLite, in one place, so nothing else branches
 * on the driver. Everything else is written once, with `?` placeholders, for both.
 */
export class Dialect {
  constructor(readonly kind: DriverKind) {}

  /** RFC 7396 merge of `patch` into `target`, done by the database: JSON_MERGE_PATCH / json_patch. */
  jsonMergePatch(target: string, patch: string): string {
    return this.kind === 'mysql' ? `JSON_MERGE_PATCH(${target}, ${patch})` : `json_patch(${target}, ${patch})`;
  }

  /**
   * `column` with the RFC 7396 `patch` applied, for a patch that deletes keys. MariaDB's
   * JSON_MERGE_PATCH loses sibling updates when a patch also removes a key (10.11: `{"a":1,"b":2}`
   * patched with `{"b":20,"a":null}` gives `{"b":2}`), so on MySQL/MariaDB the deletions are merged
   * first, alone, and then the rest without nulls — the same result by RFC 7396. (Not JSON_REMOVE:
   * MariaDB cannot address every key with a path — `$."-a"` makes it return NULL.)
   * SQLite's json_patch is correct and gets the patch as is.
   */
  jsonMergeDeleting(column: string, patch: unknown): { sql: string; params: unknown[] } {
    if (this.kind === 'sqlite') return { sql: `json_patch(${column}, ?)`, params: [JSON.stringify(patch)] };
    return {
      sql: `JSON_MERGE_PATCH(JSON_MERGE_PATCH(${column}, ?), ?)`,
      params: [JSON.stringify(deletionsOf(patch)), JSON.stringify(mergePatch({}, patch))],
    };
  }

  /** `UPDATE` that skips rows which would break a unique key (they are left as they were). */
  get updateIgnore(): string {
    return this.kind === 'mysql' ? 'UPDATE IGNORE' : 'UPDATE OR IGNORE';
  }

  /** The value a row tried to insert, inside an upsert's update clause. */
  inserted(column: string): string {
    return this.kind === 'mysql' ? `VALUES(${column})` : `excluded.${column}`;
  }

  /** `ON DUPLICATE KEY UPDATE …` / `ON CONFLICT (…) DO UPDATE SET …`. */
  onConflictUpdate(conflictColumns: string[], assignments: string): string {
    return this.kind === 'mysql'
      ? `ON DUPLICATE KEY UPDATE ${assignments}`
      : `ON CONFLICT (${conflictColumns.join(', ')}) DO UPDATE SET ${assignments}`;
  }

  /** Keeps the existing row when a unique key is taken (without MySQL's INSERT IGNORE, which hides other errors). */
  onConflictIgnore(conflictColumns: string[]): string {
    const first = conflictColumns[0];
    return this.kind === 'mysql'
      ? `ON DUPLICATE KEY UPDATE ${first} = ${first}`
      : `ON CONFLICT (${conflictColumns.join(', ')}) DO NOTHING`;
  }

  /** A JSON value at `path` (a bound `$.…` parameter) as SQL text/number, unquoted. */
  jsonValue(column: string, pathPlaceholder = '?'): string {
    return this.kind === 'mysql'
      ? `JSON_UNQUOTE(JSON_EXTRACT(${column}, ${pathPlaceholder}))`
      : `json_extract(${column}, ${pathPlaceholder})`;
  }

  /**
   * The JSON type at `path`, normalised to one of
   * `object array string number boolean null` (or SQL NULL when the path is missing).
   */
  jsonType(column: string, pathPlaceholder = '?'): string {
    if (this.kind === 'mysql') {
      const t = `JSON_TYPE(JSON_EXTRACT(${column}, ${pathPlaceholder}))`;
      return `(CASE ${t} WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'STRING' THEN 'string'
        WHEN 'INTEGER' THEN 'number' WHEN 'DOUBLE' THEN 'number' WHEN 'DECIMAL' THEN 'number' WHEN 'UNSIGNED INTEGER' THEN 'number'
        WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' ELSE NULL END)`;
    }
    const t = `json_type(${column}, ${pathPlaceholder})`;
    return `(CASE ${t} WHEN 'object' THEN 'object' WHEN 'array' THEN 'array' WHEN 'text' THEN 'string'
      WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean'
      WHEN 'null' THEN 'null' ELSE NULL END)`;
  }

  /**
   * A condition "the JSON value at `path` equals `value`" with JSON types respected
   * (`true` ≠ `"true"` ≠ `1`). Objects compare by content; arrays by containment both ways
   * on MySQL/MariaDB (order-insensitive), by canonical text on SQLite.
   */
  jsonEquals(column: string, path: string, value: unknown): { sql: string; params: unknown[] } {
    const type = this.jsonType(column);
    const mysql = this.kind === 'mysql';
    if (value === null) return { sql: `${type} = 'null'`, params: [path] };
    switch (typeof value) {
      case 'boolean':
        return mysql
          ? {
              sql: `${type} = 'boolean' AND JSON_UNQUOTE(JSON_EXTRACT(${column}, ?)) = ?`,
              params: [path, path, String(value)],
            }
          : { sql: `${type} = 'boolean' AND json_extract(${column}, ?) = ?`, params: [path, path, value ? 1 : 0] };
      case 'number':
        return { sql: `${type} = 'number' AND ${this.jsonValue(column)} + 0 = ?`, params: [path, path, value] };
      case 'string':
        return mysql
          ? {
              sql: `${type} = 'string' AND CAST(JSON_UNQUOTE(JSON_EXTRACT(${column}, ?)) AS BINARY) = CAST(? AS BINARY)`,
              params: [path, path, value],
            }
          : { sql: `${type} = 'string' AND json_extract(${column}, ?) = ?`, params: [path, path, value] };
      default: {
        const json = JSON.stringify(value);
        return mysql
          ? {
              sql: `${type} IN ('object', 'array') AND JSON_CONTAINS(${column}, ?, ?) AND JSON_CONTAINS(?, JSON_EXTRACT(${column}, ?))`,
              params: [path, json, path, json, path],
            }
          : {
              sql: `${type} IN ('object', 'array') AND json(json_extract(${column}, ?)) = json(?)`,
              params: [path, path, json],
            };
      }
    }
  }

  /** The later of two DATETIME values. */
  greatest(a: string, b: string): string {
    return this.kind === 'mysql' ? `GREATEST(${a}, ${b})` : `max(${a}, ${b})`;
  }

  /** Case-insensitive substring match (`?` is the pattern with `%` around it). */
  containsInsensitive(expression: string): string {
    return `LOWER(${expression}) LIKE ? ESCAPE '!'`;
  }

  /** Row locks held to the end of the transaction; SQLite has a single writer and no such clause. */
  get forUpdate(): string {
    return this.kind === 'mysql' ? ' FOR UPDATE' : '';
  }

  /** Row locks for a job claim; SQLite has a single writer and no such clause. */
  get forUpdateSkipLocked(): string {
    return this.kind === 'mysql' ? ' FOR UPDATE SKIP LOCKED' : '';
  }
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
/** 10000-01-01T00:00:00Z: from there on `toISOString` writes the year with a sign and six digits. */
const YEAR_10000_MS = 253_402_300_800_000;

/** `YYYY-MM-DD` of a day counted from 1970-01-01 (≥ 0): Howard Hinnant's civil-from-days. */
function civilDate(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = era * 400 + yearOfEra + (month <= 2 ? 1 : 0);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}`;
}

// times that follow each other mostly fall on the same day
let lastDay = NaN;
let lastDate = '';

/**
 * `date` in UTC as `toISOString` writes it, with `separator` for its `T` and `end` for its `Z`, computed
 * with arithmetic (several times cheaper than `toISOString`); undefined outside 1970–9999 and for an
 * invalid date, which the callers leave to `toISOString`.
 */
function formatUtc(date: Date, separator: string, end: string): string | undefined {
  const ms = date.getTime();
  if (!(ms >= 0 && ms < YEAR_10000_MS)) return undefined;
  const days = Math.floor(ms / DAY_MS);
  if (days !== lastDay) {
    lastDate = civilDate(days);
    lastDay = days;
  }
  let rest = ms - days * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${lastDate}${separator}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[rest - seconds * 1000]}${end}`;
}

/** Exactly `date.toISOString()` (`YYYY-MM-DDTHH:MM:SS.mmmZ`; a RangeError for an invalid date), faster. */
export function isoTime(date: Date): string {
  return formatUtc(date, 'T', 'Z') ?? date.toISOString();
}

/** `Date` → `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what DATETIME(3) and the SQLite text columns hold. */
export function toDbTime(date: Date): string {
  return formatUtc(date, ' ', '') ?? date.toISOString().replace('T', ' ').replace('Z', '');
}

/** A DATETIME read back from either engine (mysql2 gives `Date`, SQLite gives text in UTC). */
export function fromDbTime(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

/** Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '!'`. */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** A dotted trait path (`a.b c.d`) as a quoted JSON path (`$."a"."b c"."d"`). */
export function jsonPath(dotted: string): string {
  const parts = dotted.split('.');
  if (parts.some((p) => p === '' || /["\\]/.test(p))) {
    throw new RangeError(`"${dotted}" is not a valid path: use dot-separated keys without quotes or backslashes`);
  }
  return '$' + parts.map((p) => `."${p}"`).join('');
}

/** Only the deletions of an RFC 7396 patch: its `null`s with the objects leading to them. */
function deletionsOf(patch: unknown): Record<string, unknown> {
  const deletions: Record<string, unknown> = Object.create(null);
  for (const keys of deletedPaths(patch)) {
    let node = deletions;
    keys.forEach((key, i) => {
      if (i === keys.length - 1) {
        node[key] = null;
      } else {
        // null-prototype objects: a key such as `__proto__` is plain data here
        if (typeof node[key] !== 'object' || node[key] === null) node[key] = Object.create(null);
        node = node[key] as Record<string, unknown>;
      }
    });
  }
  return deletions;
}
