import type { ColumnOptions, ValueTransformer } from 'typeorm';

/** JSON read back as text (MariaDB stores JSON as LONGTEXT) is parsed; objects pass through. */
const parseJson: ValueTransformer = {
  to: (value: unknown) => value,
  from: (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value),
};

/** A `json` column (never `simple-json`, which is TEXT and breaks at 64 KB). */
export function jsonColumn(name: string, options: ColumnOptions = {}): ColumnOptions {
  return { type: 'json', name, transformer: parseJson, ...options };
}

/** A millisecond-precision UTC time (DATETIME(3) on MySQL/MariaDB, text on SQLite). */
export function timeColumn(name: string, options: ColumnOptions = {}): ColumnOptions {
  return { type: 'datetime', precision: 3, name, ...options };
}
