import { hasOwn, isPlainObject, valueAt } from '../../lib/json';
import { parseIsoDate, RELATIVE_DATE, resolveDate, toTime } from './condition-dates';
import { validateCondition } from './condition-validation';
import {
  Operator,
  VALUE_RULES,
  type Condition,
  type LeafCondition,
  type ConditionResult,
  type ConditionScope,
  type ConditionTrace,
  type EvaluateOptions,
} from './condition.types';

/**
 * Routing-rule conditions: the types and operators are in `condition.types.ts`, the save-time checks in
 * `condition-validation.ts`, dates in `condition-dates.ts`; this file evaluates a tree and re-exports the rest,
 * so callers import everything from here.
 */
export * from './condition.types';
export { validateCondition } from './condition-validation';

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
  validateCondition(tree, rootPointer, options.roots);
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

/** Own properties only (no prototype walk); array indexes are segments (`data.items.0.sku`). */
function resolvePath(scope: ConditionScope, path: string): { found: boolean; value: unknown } {
  const value = valueAt(scope, path);
  return value === undefined ? { found: false, value: undefined } : { found: true, value };
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
