/**
 * Limits on JSON that comes from outside (Segment messages, GraphQL JSON arguments), so that every
 * engine can store what was accepted.
 */

/**
 * The deepest nesting of objects and arrays a JSON value from outside may have (a Segment message,
 * counting the message itself; a GraphQL JSON argument). MariaDB refuses to store JSON nested deeper
 * than 32 levels, and stored values are embedded a few levels down again (message plans, routing
 * history), so 20 leaves room; real traits and properties stay far below it.
 */
export const MAX_JSON_DEPTH = 20;

/** An unpaired UTF-16 surrogate: not Unicode. In `u` mode a pair is one code point, so only lone ones match. */
export const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/**
 * Whether `value` nests objects/arrays more than `limit` levels deep (`{}` and `[]` are 1, a scalar 0).
 * It stops at the first path over the limit, so it never recurses more than `limit` + 1 calls deep, however
 * deep the value is; it allocates nothing (it runs for every ingested event).
 *
 * @example
 * ```ts
 * jsonDeeperThan({ a: { b: [1] } }, 2); // true: 3 levels
 * ```
 */
export function jsonDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return limit < 1 || childrenDeeperThan(value, limit - 1);
}

/** Whether any child of the object or array `value` is deeper than `limit`. */
function childrenDeeperThan(value: object, limit: number): boolean {
  if (Array.isArray(value)) {
    for (const child of value) {
      if (typeof child === 'object' && child !== null && (limit < 1 || childrenDeeperThan(child, limit - 1)))
        return true;
    }
    return false;
  }
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && (limit < 1 || childrenDeeperThan(child, limit - 1))) return true;
  }
  return false;
}

/** The first string (key or value) in `value` holding a lone surrogate, if any. */
export function findLoneSurrogate(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (LONE_SURROGATE.test(current)) return current;
    } else if (Array.isArray(current)) {
      stack.push(...current);
    } else if (typeof current === 'object' && current !== null) {
      for (const key of Object.keys(current)) {
        if (LONE_SURROGATE.test(key)) return key;
        stack.push((current as Record<string, unknown>)[key]);
      }
    }
  }
  return undefined;
}

/**
 * `value` with every lone surrogate (in keys and strings) replaced by U+FFFD, as a UTF-8 encoder does;
 * MariaDB refuses JSON holding them (`"\udfff"`). Keys such as `__proto__` stay data.
 * Expects a depth already checked against {@link MAX_JSON_DEPTH}.
 */
export function wellFormedJson<T>(value: T): T {
  if (typeof value === 'string') return value.replace(LONE_SURROGATES, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(wellFormedJson) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key.replace(LONE_SURROGATES, '\uFFFD'), {
      value: wellFormedJson((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out as T;
}
