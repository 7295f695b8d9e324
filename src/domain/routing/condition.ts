import { InvalidInputError } from '../domain-error';
import { describe, hasOwn, isPlainObject } from '../../lib/json';

/**
 * Routing-rule conditions (README.md, "From event to notification", step 5): a JSON tree of
 * `all` / `any` / `not` groups over leaves `{ path, op, value }`, checked when a rule is saved ({@link validateCondition}) and evaluated by the
 * send pipeline ({@link evaluateCondition}, {@link conditionHolds}). Pure: no I/O, no clock unless a
 * relative date (`now-7d`) is used, and then the clock can be injected.
 *
 * @example
 * ```json
 * { "all": [
 *   { "path": "data.amount", "op": "GT", "value": 100 },
 *   { "not": { "path": "profile.plan", "op": "IN", "value": ["free", "trial"] } }
 * ] }
 * ```
 */

/**
 * The comparison a leaf makes between the value found at its `path` (the *actual* value) and its
 * `value` (the *expected* one). Types are strict: `42` and `"42"` are different values, nothing is coerced.
 * When the path is missing, every operator is false except `NEQ`, `NOT_IN` and `NOT_EXISTS`, which are true.
 *
 * To add an operator: add it here, say in {@link VALUE_RULES} what its `value` must be, and give it a
 * case in `applyOperator`; the tests list every operator true and false.
 */
export enum Operator {
  /** Deep equality, strict types. `{"path":"profile.plan","op":"EQ","value":"pro"}` */
  EQ = 'EQ',
  /** Not deeply equal; true when the path is missing. `{"path":"data.status","op":"NEQ","value":"test"}` */
  NEQ = 'NEQ',
  /** Greater than: numbers, or ISO dates when both sides are dates. `{"path":"data.amount","op":"GT","value":100}` */
  GT = 'GT',
  /** Greater than or equal (numbers or ISO dates). `{"path":"data.items_count","op":"GTE","value":1}` */
  GTE = 'GTE',
  /** Less than (numbers or ISO dates). `{"path":"data.signup","op":"LT","value":"2024-01-01"}` */
  LT = 'LT',
  /** Less than or equal (numbers or ISO dates). `{"path":"data.amount","op":"LTE","value":10.5}` */
  LTE = 'LTE',
  /** The actual value deeply equals one of `value` (an array). `{"path":"profile.country","op":"IN","value":["DE","FR"]}` */
  IN = 'IN',
  /** The actual value is none of `value` (an array); true when missing. `{"path":"profile.plan","op":"NOT_IN","value":["free"]}` */
  NOT_IN = 'NOT_IN',
  /** An array that contains `value` (deep equality), or a string that contains the `value` string. `{"path":"profile.tags","op":"INCLUDES","value":"vip"}` */
  INCLUDES = 'INCLUDES',
  /** The path is present and not `null`; takes no value. `{"path":"profile.email","op":"EXISTS"}` */
  EXISTS = 'EXISTS',
  /** The path is missing or `null`; takes no value. `{"path":"profile.unsubscribed_at","op":"NOT_EXISTS"}` */
  NOT_EXISTS = 'NOT_EXISTS',
  /** A string that starts with the `value` string (case-sensitive). `{"path":"profile.phone","op":"STARTS_WITH","value":"+49"}` */
  STARTS_WITH = 'STARTS_WITH',
  /** A string that ends with the `value` string (case-sensitive). `{"path":"profile.email","op":"ENDS_WITH","value":"@acme.com"}` */
  ENDS_WITH = 'ENDS_WITH',
  /** An ISO date strictly before `value`: an ISO date or `now`, `now-7d`, `now+2h` (units s m h d w). `{"path":"profile.trial_ends_at","op":"IS_BEFORE","value":"now+3d"}` */
  IS_BEFORE = 'IS_BEFORE',
  /** An ISO date strictly after `value` (same forms as `IS_BEFORE`). `{"path":"event.timestamp","op":"IS_AFTER","value":"now-1h"}` */
  IS_AFTER = 'IS_AFTER',
}

/** Every operator, in documentation order. */
export const OPERATORS: readonly Operator[] = Object.values(Operator);

/** Deepest allowed nesting of nodes (the root counts as level 1). */
export const MAX_CONDITION_DEPTH = 20;

/** The roots a leaf `path` may start at: the send's data, the user's profile, the triggering event. */
export const CONDITION_ROOTS = ['data', 'profile', 'event'] as const;
export type ConditionRoot = (typeof CONDITION_ROOTS)[number];

export interface AllCondition {
  all: Condition[];
}
export interface AnyCondition {
  any: Condition[];
}
export interface NotCondition {
  not: Condition;
}
/** A comparison. `path` is dotted (`data.items.0.sku`); `value` is absent for `EXISTS` / `NOT_EXISTS`. */
export interface LeafCondition {
  path: string;
  op: Operator | `${Operator}`;
  value?: unknown;
}
export type Condition = AllCondition | AnyCondition | NotCondition | LeafCondition;

/** What paths resolve against: `data` (the message data), `profile` (the profile's traits), `event` (the inbound event). */
export interface ConditionScope {
  data?: unknown;
  profile?: unknown;
  event?: unknown;
}

/** One evaluated leaf, JSON-safe, for the message history. */
export interface ConditionTrace {
  /** Where the leaf sits in the tree, e.g. `when.all[1].any[0]`. */
  pointer: string;
  path: string;
  op: Operator;
  /** The leaf's `value`; `null` for `EXISTS` / `NOT_EXISTS`. */
  expected: unknown;
  /** For relative dates (`now-7d`): the instant they resolved to, ISO. */
  expectedResolved?: string;
  /** The value found at `path` (JSON-safe copy; `Date` becomes an ISO string); `null` when missing. */
  actual: unknown;
  /** False when nothing (or `undefined`) was found at `path`; tells a missing path from a `null` one. */
  found: boolean;
  result: boolean;
}

export interface ConditionResult {
  result: boolean;
  trace: ConditionTrace[];
}

export interface EvaluateOptions {
  /** The instant `now` stands for in relative dates; defaults to the current time. */
  now?: Date | number;
  /** Pointer of the root node in errors and traces; default `when`. */
  rootPointer?: string;
}

/** A condition tree that is not valid; `pointer` names the offending node, e.g. `when.all[1].any[0]`. */
export class ConditionError extends InvalidInputError {
  constructor(
    readonly pointer: string,
    problem: string,
  ) {
    super(`${pointer}: ${problem}`, { pointer });
  }
}

// ---------------------------------------------------------------------------------------------------
// Validation

type ValueRule = 'none' | 'any' | 'array' | 'string' | 'orderable' | 'date';

/** What each operator's `value` must be. */
const VALUE_RULES: Record<Operator, ValueRule> = {
  [Operator.EQ]: 'any',
  [Operator.NEQ]: 'any',
  [Operator.GT]: 'orderable',
  [Operator.GTE]: 'orderable',
  [Operator.LT]: 'orderable',
  [Operator.LTE]: 'orderable',
  [Operator.IN]: 'array',
  [Operator.NOT_IN]: 'array',
  [Operator.INCLUDES]: 'any',
  [Operator.EXISTS]: 'none',
  [Operator.NOT_EXISTS]: 'none',
  [Operator.STARTS_WITH]: 'string',
  [Operator.ENDS_WITH]: 'string',
  [Operator.IS_BEFORE]: 'date',
  [Operator.IS_AFTER]: 'date',
};

const NODE_KINDS = ['all', 'any', 'not', 'path'] as const;
const LEAF_KEYS = new Set(['path', 'op', 'value']);

/**
 * Throws a {@link ConditionError} naming the first invalid node; returns normally for a valid tree.
 *
 * @example
 * validateCondition({ all: [{ path: 'data.amount', op: 'GT', value: 100 }] }); // ok
 * validateCondition({ any: [] }); // ConditionError "when: any must be a non-empty array"
 */
export function validateCondition(tree: unknown, rootPointer = 'when'): asserts tree is Condition {
  validateNode(tree, rootPointer, 1);
}

function validateNode(node: unknown, pointer: string, depth: number): void {
  if (depth > MAX_CONDITION_DEPTH) {
    throw new ConditionError(pointer, `nesting is deeper than ${MAX_CONDITION_DEPTH} levels`);
  }
  if (!isPlainObject(node)) {
    throw new ConditionError(
      pointer,
      `must be an object: {"all": [...]}, {"any": [...]}, {"not": {...}} or {"path", "op", "value"}, got ${describe(node)}`,
    );
  }
  const kinds = NODE_KINDS.filter((k) => hasOwn(node, k));
  if (kinds.length === 0) {
    const hint = hasOwn(node, 'op') ? ' (a leaf needs a path)' : '';
    throw new ConditionError(pointer, `must have one of "all", "any", "not" or "path"${hint}`);
  }
  if (kinds.length > 1) {
    throw new ConditionError(
      pointer,
      `has several of ${kinds.map((k) => `"${k}"`).join(', ')}; a node has exactly one`,
    );
  }
  const kind = kinds[0];
  if (kind === 'path') return validateLeaf(node, pointer);

  const extra = Object.keys(node).filter((k) => k !== kind);
  if (extra.length > 0) throw new ConditionError(pointer, `unexpected key "${extra[0]}" next to "${kind}"`);
  if (kind === 'not') return validateNode(node.not, `${pointer}.not`, depth + 1);

  const children = node[kind];
  if (!Array.isArray(children) || children.length === 0) {
    throw new ConditionError(pointer, `"${kind}" must be a non-empty array of conditions, got ${describe(children)}`);
  }
  children.forEach((child, i) => validateNode(child, `${pointer}.${kind}[${i}]`, depth + 1));
}

function validateLeaf(node: Record<string, unknown>, pointer: string): void {
  const extra = Object.keys(node).filter((k) => !LEAF_KEYS.has(k));
  if (extra.length > 0) throw new ConditionError(pointer, `unexpected key "${extra[0]}" in a leaf (path, op, value)`);

  const { path, op } = node;
  if (typeof path !== 'string') throw new ConditionError(pointer, `path must be a string, got ${describe(path)}`);
  const pathProblem = checkPath(path);
  if (pathProblem) throw new ConditionError(pointer, pathProblem);

  if (op === undefined) throw new ConditionError(pointer, `op is required: one of ${OPERATORS.join(' ')}`);
  if (typeof op !== 'string' || !isOperator(op)) {
    throw new ConditionError(pointer, `unknown op ${describe(op)}; expected one of ${OPERATORS.join(' ')}`);
  }

  const rule = VALUE_RULES[op];
  const hasValue = hasOwn(node, 'value') && node.value !== undefined;
  const value = node.value;
  if (rule === 'none') return; // a stray value on EXISTS / NOT_EXISTS is ignored
  if (!hasValue) throw new ConditionError(pointer, `op ${op} needs a value`);
  switch (rule) {
    case 'array':
      if (!Array.isArray(value))
        throw new ConditionError(pointer, `op ${op} needs an array value, got ${describe(value)}`);
      return;
    case 'string':
      if (typeof value !== 'string') {
        throw new ConditionError(pointer, `op ${op} needs a string value, got ${describe(value)}`);
      }
      return;
    case 'orderable':
      if (!(typeof value === 'number' && Number.isFinite(value)) && !(typeof value === 'string' && isIsoDate(value))) {
        throw new ConditionError(pointer, `op ${op} needs a number or an ISO date value, got ${describe(value)}`);
      }
      return;
    case 'date':
      if (typeof value !== 'string' || (!isIsoDate(value) && !RELATIVE_DATE.test(value))) {
        throw new ConditionError(
          pointer,
          `op ${op} needs an ISO date ("2024-05-01", "2024-05-01T12:00:00Z") or a relative date ("now", "now-7d", "now+2h"; units s m h d w), got ${describe(value)}`,
        );
      }
      return;
    case 'any':
      return;
  }
}

/** Why a leaf path is invalid, or undefined when it is fine. */
function checkPath(path: string): string | undefined {
  const segments = path.split('.');
  if (!(CONDITION_ROOTS as readonly string[]).includes(segments[0]) || segments.length < 2) {
    return `path "${path}" must start with "data.", "profile." or "event."`;
  }
  if (segments.some((s) => s === '')) return `path "${path}" has an empty segment`;
  return undefined;
}

function isOperator(op: string): op is Operator {
  return (OPERATORS as readonly string[]).includes(op);
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/**
 * Evaluates a tree over `scope`. Every leaf is evaluated (no short-circuit), so `trace` holds the
 * actual value of each leaf in document order, even those that did not decide the outcome.
 * Throws a {@link ConditionError} when the tree is invalid.
 *
 * @example
 * evaluateCondition({ path: 'data.amount', op: 'GT', value: 100 }, { data: { amount: 150 } });
 * // { result: true, trace: [{ pointer: 'when', path: 'data.amount', op: 'GT', expected: 100, actual: 150, found: true, result: true }] }
 */
export function evaluateCondition(
  tree: unknown,
  scope: ConditionScope,
  options: EvaluateOptions = {},
): ConditionResult {
  const rootPointer = options.rootPointer ?? 'when';
  validateCondition(tree, rootPointer);
  const now = options.now === undefined ? Date.now() : new Date(options.now).getTime();
  const trace: ConditionTrace[] = [];
  const result = evaluateNode(tree, rootPointer, scope, now, trace);
  return { result, trace };
}

/**
 * Whether a rule's `when` holds: an absent `when` (null / undefined) always holds (the rule applies
 * unconditionally).
 *
 * @example
 * conditionHolds(null, scope); // { result: true, trace: [] }
 */
export function conditionHolds(
  when: unknown | null | undefined,
  scope: ConditionScope,
  options?: EvaluateOptions,
): ConditionResult {
  if (when === null || when === undefined) return { result: true, trace: [] };
  return evaluateCondition(when, scope, options);
}

function evaluateNode(
  node: Condition,
  pointer: string,
  scope: ConditionScope,
  now: number,
  trace: ConditionTrace[],
): boolean {
  if ('all' in node) {
    return node.all.map((c, i) => evaluateNode(c, `${pointer}.all[${i}]`, scope, now, trace)).every(Boolean);
  }
  if ('any' in node) {
    return node.any.map((c, i) => evaluateNode(c, `${pointer}.any[${i}]`, scope, now, trace)).some(Boolean);
  }
  if ('not' in node) return !evaluateNode(node.not, `${pointer}.not`, scope, now, trace);
  return evaluateLeaf(node, pointer, scope, now, trace);
}

function evaluateLeaf(
  leaf: LeafCondition,
  pointer: string,
  scope: ConditionScope,
  now: number,
  trace: ConditionTrace[],
): boolean {
  const op = leaf.op as Operator;
  const takesValue = VALUE_RULES[op] !== 'none';
  const expected = takesValue ? leaf.value : undefined;
  const { found, value: actual } = resolvePath(scope, leaf.path);

  let expectedResolved: number | undefined;
  if ((op === Operator.IS_BEFORE || op === Operator.IS_AFTER) && typeof expected === 'string') {
    expectedResolved = resolveDate(expected, now);
  }
  const result = applyOperator(op, found, actual, expected, expectedResolved);

  const entry: ConditionTrace = {
    pointer,
    path: leaf.path,
    op,
    expected: takesValue ? jsonSafe(expected) : null,
    actual: found ? jsonSafe(actual) : null,
    found,
    result,
  };
  if (expectedResolved !== undefined && typeof expected === 'string' && RELATIVE_DATE.test(expected)) {
    entry.expectedResolved = new Date(expectedResolved).toISOString();
  }
  trace.push(entry);
  return result;
}

function applyOperator(
  op: Operator,
  found: boolean,
  actual: unknown,
  expected: unknown,
  expectedTime: number | undefined,
): boolean {
  if (!found) return op === Operator.NEQ || op === Operator.NOT_IN || op === Operator.NOT_EXISTS;
  switch (op) {
    case Operator.EQ:
      return deepEqual(actual, expected);
    case Operator.NEQ:
      return !deepEqual(actual, expected);
    case Operator.GT:
      return compareOrdered(actual, expected, (c) => c > 0);
    case Operator.GTE:
      return compareOrdered(actual, expected, (c) => c >= 0);
    case Operator.LT:
      return compareOrdered(actual, expected, (c) => c < 0);
    case Operator.LTE:
      return compareOrdered(actual, expected, (c) => c <= 0);
    case Operator.IN:
      return Array.isArray(expected) && expected.some((v) => deepEqual(actual, v));
    case Operator.NOT_IN:
      return Array.isArray(expected) && !expected.some((v) => deepEqual(actual, v));
    case Operator.INCLUDES:
      if (Array.isArray(actual)) return actual.some((v) => deepEqual(v, expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.includes(expected);
    case Operator.EXISTS:
      return actual !== null;
    case Operator.NOT_EXISTS:
      return actual === null;
    case Operator.STARTS_WITH:
      return typeof actual === 'string' && typeof expected === 'string' && actual.startsWith(expected);
    case Operator.ENDS_WITH:
      return typeof actual === 'string' && typeof expected === 'string' && actual.endsWith(expected);
    case Operator.IS_BEFORE:
    case Operator.IS_AFTER: {
      const time = toTime(actual);
      if (time === undefined || expectedTime === undefined) return false;
      return op === Operator.IS_BEFORE ? time < expectedTime : time > expectedTime;
    }
  }
}

/** Numbers compare as numbers; otherwise both sides must be dates. Anything else is false. */
function compareOrdered(actual: unknown, expected: unknown, test: (cmp: number) => boolean): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Number.isFinite(actual) && test(Math.sign(actual - expected));
  }
  if (typeof expected !== 'string') return false;
  const a = toTime(actual);
  const e = parseIsoDate(expected);
  if (a === undefined || e === undefined) return false;
  return test(Math.sign(a - e));
}

/** An instant from an ISO string or a `Date` (callers may put `Date`s in `event`). */
function toTime(value: unknown): number | undefined {
  if (typeof value === 'string') return parseIsoDate(value);
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  return undefined;
}

/** Own properties only (no prototype walk); array indexes are segments (`data.items.0.sku`). */
function resolvePath(scope: ConditionScope, path: string): { found: boolean; value: unknown } {
  const [root, ...rest] = path.split('.');
  let current: unknown = (scope as Record<string, unknown>)[root];
  for (const segment of rest) {
    if (current === null || typeof current !== 'object' || !hasOwn(current, segment)) {
      return { found: false, value: undefined };
    }
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? { found: false, value: undefined } : { found: true, value: current };
}

/** Deep equality of JSON values: arrays in order, objects by key set regardless of order, strict types. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Dates

/**
 * ISO 8601 / RFC 3339 dates: `2024-05-01`, `2024-05-01T12:00`, `2024-05-01T12:00:00.123+02:00`.
 * A date or date-time without an offset is read as UTC, so results never depend on the server's zone.
 */
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** `now`, or `now` plus or minus whole seconds, minutes, hours, days or weeks: `now-7d`, `now+2h`. */
const RELATIVE_DATE = /^now(?:([+-])(\d{1,9})([smhdw]))?$/;

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

function isIsoDate(value: string): boolean {
  return parseIsoDate(value) !== undefined;
}

/** Milliseconds since the epoch, or undefined when `value` is not a valid ISO date. */
function parseIsoDate(value: string): number | undefined {
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

function resolveDate(value: string, now: number): number | undefined {
  const rel = RELATIVE_DATE.exec(value);
  if (!rel) return parseIsoDate(value);
  if (!rel[1]) return now;
  const delta = Number(rel[2]) * UNIT_MS[rel[3]];
  return rel[1] === '-' ? now - delta : now + delta;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/** A JSON-safe copy (what `JSON.stringify` would keep); `undefined` becomes `null`. */
function jsonSafe(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  } catch {
    return String(value);
  }
}
