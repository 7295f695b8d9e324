import { timingSafeEqual } from 'node:crypto';
import {
  CALLBACK_MAX_SKEW_MS,
  CallbackRejectedError,
  type CallbackEvent,
  type CallbackRequest,
} from '../../domain/provider/provider-callback';

/**
 * What the plugins' callback code shares: constant-time comparison, the clock check, and the limits an
 * event's fields must fit in (the columns of `provider_callbacks`), so a hostile request is refused as
 * malformed (400) and never breaks the store.
 */

/** Whether `a` and `b` are the same bytes, in time that does not depend on where they differ. */
export function sameBytes(a: Buffer | string, b: Buffer | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws `timestamp` when `at` is more than {@link CALLBACK_MAX_SKEW_MS} from the request's arrival. */
export function checkSkew(at: number, request: CallbackRequest, what: string): void {
  if (!Number.isFinite(at) || Math.abs(request.now.getTime() - at) > CALLBACK_MAX_SKEW_MS) {
    throw new CallbackRejectedError(
      `${what} is more than ${CALLBACK_MAX_SKEW_MS / 60_000} minutes off this server's clock (or not a time): refused`,
      'timestamp',
    );
  }
}

/** A header's value, or a `signature` rejection naming it. */
export function requiredHeader(request: CallbackRequest, name: string): string {
  const value = request.headers[name.toLowerCase()];
  if (value === undefined || value === '') {
    throw new CallbackRejectedError(`The ${name} header is missing: the callback is not signed`, 'signature');
  }
  return value;
}

/** A lone surrogate (a string that is not well-formed UTF-16 cannot be stored as UTF-8 as it is). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const wellFormed = (s: string) => s.replace(LONE_SURROGATE, '\uFFFD');

export const malformed = (message: string) => new CallbackRejectedError(message, 'malformed');

/** The longest provider event id and external id stored (`provider_callbacks.event_id`, `external_id`). */
export const MAX_ID_LENGTH = 255;

/** An id field: a non-empty, well-formed string of at most 255 characters; else `malformed`. */
export function idField(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH || wellFormed(value) !== value) {
    throw malformed(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  return value;
}

/** A provider's words, well-formed and at most 1,000 characters; null when there are none. */
export function reasonText(...values: unknown[]): string | null {
  for (const v of values) {
    if (typeof v === 'string' && v.trim() !== '') return wellFormed(wellFormed(v).slice(0, 1000));
  }
  return null;
}

/** An error code as stored (at most 32 characters), or null. */
export function errorCodeText(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value).slice(0, 32);
  if (typeof value === 'string' && value.trim() !== '') return wellFormed(wellFormed(value.trim()).slice(0, 32));
  return null;
}

/** `ms` as a time a database stores (years 1970–9999), else the request's arrival. */
export function eventTime(ms: number, request: CallbackRequest): Date {
  return Number.isFinite(ms) && ms >= 0 && ms < 253_402_300_800_000 ? new Date(ms) : request.now;
}

export type { CallbackEvent };
