import { DateTime, IANAZone } from 'luxon';

/**
 * Every local-time rule of workflows goes through this file, and through luxon (time zones from the
 * runtime's IANA database via `Intl`), so no rule ever mixes a UTC weekday with a local hour.
 *
 * Rules for local times that are not one instant (DST changes):
 * - a local time that does not exist (spring forward, e.g. 02:30 in Europe/Berlin on the last Sunday of
 *   March) moves forward to the first valid instant, the transition itself (03:00 local);
 * - an ambiguous one (fall back, 02:30 on the last Sunday of October) takes its first occurrence.
 */

/** Weekday codes as workflows write them, Monday first (luxon's `weekday` 1–7). */
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A local time of day, `HH:MM` (24-hour). */
export interface LocalTime {
  hour: number;
  minute: number;
}

/** A recurring local time: `{"time":"09:00","days":["MO","TU"]}` (every day without `days`). */
export interface LocalSchedule {
  time: string;
  days?: Weekday[];
}

/**
 * A send window (quiet hours' complement): `{"days":[…], "from":"08:00", "until":"20:00"}`. `until` is
 * exclusive; `from` later than `until` spans midnight, and the part after midnight belongs to the day the
 * window opened (a Friday 22:00–06:00 window is open until Saturday 06:00). Without `days` every day counts.
 */
export interface SendWindow {
  days?: Weekday[];
  from: string;
  until: string;
}

/** Which zone a recipient's local times are read in, and where it came from (recorded on the run). */
export interface RecipientZone {
  zone: string;
  source: 'profile' | 'event' | 'default';
}

export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zone !== '' && IANAZone.isValidZone(zone);
}

/**
 * The recipient's time zone: the profile trait `timezone`, else the triggering event's
 * `context.timezone`, else the configured default. Values that are not IANA zone names are passed over.
 */
export function recipientZone(profileZone: unknown, eventZone: unknown, defaultZone: string): RecipientZone {
  if (isValidZone(profileZone)) return { zone: profileZone, source: 'profile' };
  if (isValidZone(eventZone)) return { zone: eventZone, source: 'event' };
  return { zone: defaultZone, source: 'default' };
}

/** `HH:MM` (00:00–23:59), or undefined when the text is not one. */
export function parseLocalTime(text: unknown): LocalTime | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return match ? { hour: Number(match[1]), minute: Number(match[2]) } : undefined;
}

/** The instant of a local date and time in `zone`, by the DST rules above. */
export function localInstant(date: { year: number; month: number; day: number }, time: LocalTime, zone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute);
  const tz = IANAZone.create(zone);
  const offsetAt = (ms: number) => tz.offset(ms) * 60_000;
  // the offsets in force a day either side: one of them is the local time's, or it falls in a gap
  const candidates = [...new Set([offsetAt(wall - 86_400_000), offsetAt(wall + 86_400_000)])]
    .map((offset) => wall - offset)
    .filter((instant) => instant + offsetAt(instant) === wall)
    .sort((a, b) => a - b);
  if (candidates.length) return new Date(candidates[0]);
  // a gap: the first instant whose local time is at or after the wall time is the transition
  let before = wall - Math.max(offsetAt(wall - 86_400_000), offsetAt(wall + 86_400_000));
  let after = wall - Math.min(offsetAt(wall - 86_400_000), offsetAt(wall + 86_400_000));
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (mid + offsetAt(mid) >= wall) after = mid;
    else before = mid;
  }
  return new Date(after);
}

function weekdayOf(local: DateTime): Weekday {
  return WEEKDAYS[local.weekday - 1];
}

/** The local calendar day `days` after the one `at` falls on in `zone`. */
function localDay(at: Date, zone: string, days: number): DateTime {
  return DateTime.fromJSDate(at, { zone }).startOf('day').plus({ days });
}

/**
 * The next instant at or after `from` whose local time in `zone` is `schedule.time` on one of
 * `schedule.days` (a delay's `at`).
 */
export function nextScheduled(schedule: LocalSchedule, from: Date, zone: string): Date {
  const time = parseLocalTime(schedule.time);
  if (!time) throw new Error(`not a local time: ${schedule.time}`);
  for (let k = 0; k <= 8; k++) {
    const day = localDay(from, zone, k);
    if (schedule.days && !schedule.days.includes(weekdayOf(day))) continue;
    const at = localInstant(day, time, zone);
    if (at.getTime() >= from.getTime()) return at;
  }
  throw new Error('a schedule without days'); // validation refuses an empty `days`
}

/** Whether `at` falls inside `window` in `zone`. */
export function inWindow(window: SendWindow, at: Date, zone: string): boolean {
  const from = parseLocalTime(window.from)!;
  const until = parseLocalTime(window.until)!;
  const local = DateTime.fromJSDate(at, { zone });
  const minute = local.hour * 60 + local.minute;
  const start = from.hour * 60 + from.minute;
  const end = until.hour * 60 + until.minute;
  const opens = (day: DateTime) => !window.days || window.days.includes(weekdayOf(day));
  if (start < end) return opens(local) && minute >= start && minute < end;
  // spans midnight: the evening part opens today, the morning part belongs to yesterday's window
  return (minute >= start && opens(local)) || (minute < end && opens(local.minus({ days: 1 })));
}

/**
 * When a send at `at` may go out under `window`: `at` itself when the window is open then, else the
 * window's next opening (its `from` on the next allowed day, by the DST rules above).
 */
export function nextOpening(window: SendWindow, at: Date, zone: string): Date {
  if (inWindow(window, at, zone)) return at;
  const from = parseLocalTime(window.from)!;
  for (let k = 0; k <= 8; k++) {
    const day = localDay(at, zone, k);
    if (window.days && !window.days.includes(weekdayOf(day))) continue;
    const opening = localInstant(day, from, zone);
    if (opening.getTime() > at.getTime()) return opening;
  }
  throw new Error('a send window without days'); // validation refuses an empty `days`
}
