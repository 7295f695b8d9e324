/**
 * JSON helpers every layer uses (no imports of its own): the object test, RFC 7396 merge patch, and
 * a value in words for error messages.
 */

/** A JSON object (what traits are). */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object that is not a `Date` (a condition's scope may hold dates next to parsed JSON). */
export function isPlainObject(value: unknown): value is JsonObject {
  return isJsonObject(value) && !(value instanceof Date);
}

/** `Object.hasOwn` for any object, including ones made with `Object.create(null)`. */
export function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/** A value in a few words for an error message: `nothing`, `null`, `an array`, `an object`, `"text…"`, `number 3`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}

/**
 * RFC 7396 JSON Merge Patch: objects merge deeply, arrays and scalars replace, `null` removes the key.
 * The database applies the same semantics itself (JSON_MERGE_PATCH / json_patch); this copy is used
 * where a patch must be applied before it reaches the database (e.g. a new row gets `patch` applied to `{}`).
 * Never mutates its arguments; keys such as `__proto__` are kept as plain data.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: JsonObject = isJsonObject(target) ? copyObject(target) : Object.create(null);
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete result[key];
    } else {
      define(result, key, mergePatch(result[key], value));
    }
  }
  return toPlain(result);
}

/** True when applying `patch` would delete something (it holds a `null` at any depth of its objects). */
export function patchDeletes(patch: unknown): boolean {
  if (!isJsonObject(patch)) return false;
  return Object.values(patch).some((v) => v === null || patchDeletes(v));
}

/** The key paths a patch deletes (its `null`s reachable through objects), e.g. `[["a","b"]]` for `{a:{b:null}}`. */
export function deletedPaths(patch: unknown, prefix: string[] = []): string[][] {
  if (!isJsonObject(patch)) return [];
  return Object.keys(patch).flatMap((key) =>
    patch[key] === null ? [[...prefix, key]] : deletedPaths(patch[key], [...prefix, key]),
  );
}

function copyObject(source: JsonObject): JsonObject {
  const copy: JsonObject = Object.create(null);
  for (const key of Object.keys(source)) define(copy, key, source[key]);
  return copy;
}

function define(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function toPlain(source: JsonObject): JsonObject {
  const plain: JsonObject = {};
  for (const key of Object.keys(source)) define(plain, key, source[key]);
  return plain;
}

/**
 * The value at a dotted path (`data.items.0.sku`: own properties only, array indexes are segments), or
 * `undefined` when any segment is missing.
 */
export function valueAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
