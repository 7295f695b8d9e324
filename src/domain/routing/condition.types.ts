import { InvalidInputError } from '../domain-error';

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

export type ValueRule = 'none' | 'any' | 'array' | 'string' | 'orderable' | 'date';

/** What each operator's `value` must be. */
export const VALUE_RULES: Record<Operator, ValueRule> = {
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
  /** A workflow's digest (`{count, items, firstAt, lastAt}`), after a digest step. */
  digest?: unknown;
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
  /** The scope roots a path may start with; default {@link CONDITION_ROOTS} (a workflow step after a digest adds `digest`). */
  roots?: readonly string[];
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
