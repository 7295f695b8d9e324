import { DateTime, Duration } from 'luxon';

/** The longest wait or window a workflow step may ask for. */
export const MAX_DURATION_DAYS = 366;

/**
 * An ISO 8601 duration as workflow steps write it: `PT15M`, `PT1H30M`, `P2D`, `P1W`, `P1M`; with
 * `signed`, a leading `-` (a delay's `offset`, e.g. `-PT1H`). Returns the parsed duration, or why the
 * text is not one. Months and years are calendar units: `P1M` from 31 January ends on 28 February.
 */
export function parseDuration(
  text: unknown,
  options: { signed?: boolean } = {},
): { ok: true; duration: Duration } | { ok: false; problem: string } {
  if (typeof text !== 'string' || text === '') {
    return { ok: false, problem: 'must be an ISO 8601 duration such as "PT15M", "PT1H" or "P2D"' };
  }
  const negative = text.startsWith('-');
  if (negative && !options.signed) return { ok: false, problem: `"${text}" must not be negative` };
  const duration = Duration.fromISO(negative ? text.slice(1) : text);
  if (!duration.isValid) {
    return { ok: false, problem: `"${text}" is not an ISO 8601 duration such as "PT15M", "PT1H" or "P2D"` };
  }
  const days = Math.abs(duration.as('days'));
  if (days > MAX_DURATION_DAYS) return { ok: false, problem: `"${text}" is longer than ${MAX_DURATION_DAYS} days` };
  if (!options.signed && duration.as('milliseconds') <= 0) {
    return { ok: false, problem: `"${text}" must be longer than zero` };
  }
  return { ok: true, duration: negative ? duration.negate() : duration };
}

/**
 * `at` plus `duration`, counted in the recipient's time zone: days, weeks, months and years keep the
 * local wall-clock time across a DST change (`P1D` from 09:00 is 09:00 the next day), hours, minutes and
 * seconds are exact elapsed time.
 */
export function addDuration(at: Date, duration: Duration, zone: string): Date {
  return DateTime.fromJSDate(at, { zone }).plus(duration).toJSDate();
}
