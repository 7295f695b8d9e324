/** Dates in conditions: ISO 8601 instants and relative dates (`now-7d`), read as UTC without an offset. */

/**
 * ISO 8601 / RFC 3339 dates: `2024-05-01`, `2024-05-01T12:00`, `2024-05-01T12:00:00.123+02:00`.
 * A date or date-time without an offset is read as UTC, so results never depend on the server's zone.
 */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** `now`, or `now` plus or minus whole seconds, minutes, hours, days or weeks: `now-7d`, `now+2h`. */
export const RELATIVE_DATE = /^now(?:([+-])(\d{1,9})([smhdw]))?$/;

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

export function isIsoDate(value: string): boolean {
  return parseIsoDate(value) !== undefined;
}

/** Milliseconds since the epoch, or undefined when `value` is not a valid ISO date. */
export function parseIsoDate(value: string): number | undefined {
  const m = ISO_DATE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((s) => Number(s ?? 0));
  const millis = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (new Date(local).getUTCDate() !== day) return undefined; // 2023-02-30 and the like
  return local - offsetMs(m[8]);
}

function offsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || 0);
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (hours * 60 + minutes) * 60e3;
}

export function resolveDate(value: string, now: number): number | undefined {
  const rel = RELATIVE_DATE.exec(value);
  if (!rel) return parseIsoDate(value);
  if (!rel[1]) return now;
  const delta = Number(rel[2]) * UNIT_MS[rel[3]];
  return rel[1] === '-' ? now - delta : now + delta;
}

/** An instant from an ISO string or a `Date` (callers may put `Date`s in `event`). */
export function toTime(value: unknown): number | undefined {
  if (typeof value === 'string') return parseIsoDate(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  return undefined;
}
