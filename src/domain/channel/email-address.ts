/**
 * The one check of an email address taken from a profile (the `email` trait): traits come from ingest
 * and are untrusted, so the value must be exactly one bare address — `ada@example.com` — never a list
 * (`a@x, b@x`), a group (`team: a@x, b@x;`), a display-name form (`Ada <ada@x>`) or anything a mail
 * library might read as several recipients. Letters beyond ASCII are accepted (internationalised
 * addresses); quoted local parts, comments and domain literals (`[10.0.0.1]`) are not.
 */

/** A character of a dot-atom (RFC 5322 `atext`), or a non-ASCII letter, mark or digit (RFC 6531). */
const ATOM = String.raw`[A-Za-z0-9!#$%&'*+/=?^_\x60{|}~\p{L}\p{M}\p{N}-]+`;
const LOCAL_PART = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, 'u');
/** One label of a host name: letters, digits and inner hyphens, 1–63 characters. */
const LABEL = /^[A-Za-z0-9\p{L}\p{M}\p{N}](?:[A-Za-z0-9\p{L}\p{M}\p{N}-]{0,61}[A-Za-z0-9\p{L}\p{M}\p{N}])?$/u;

/** The longest address (RFC 5321: a path of 256 octets, less the angle brackets). */
export const MAX_EMAIL_LENGTH = 254;

export type EmailAddressCheck = { ok: true; address: string } | { ok: false; reason: string };

/**
 * `value` as one email address (trimmed), or why it is not one: not a string, a list of several
 * addresses, or not a valid address.
 */
export function singleEmailAddress(value: unknown): EmailAddressCheck {
  if (typeof value !== 'string') return { ok: false, reason: `it is ${describeType(value)}, not an email address` };
  const address = value.trim();
  const ats = address.split('@').length - 1;
  if (ats > 1 || /[,;]/.test(address)) {
    return { ok: false, reason: 'it holds several addresses; it must be exactly one' };
  }
  if (!isEmailAddress(address)) return { ok: false, reason: 'it is not one valid email address' };
  return { ok: true, address };
}

/** Whether `address` is exactly one bare email address (`local@domain`), with nothing around it. */
export function isEmailAddress(address: string): boolean {
  if (address.length === 0 || address.length > MAX_EMAIL_LENGTH) return false;
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@')) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return false;
  if (domain.length === 0 || domain.length > 253) return false;
  return domain.split('.').every((label) => LABEL.test(label));
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
