import { describe, hasOwn, isPlainObject } from '../../lib/json';
import { isIsoDate, RELATIVE_DATE } from './condition-dates';
import {
  CONDITION_ROOTS,
  ConditionError,
  MAX_CONDITION_DEPTH,
  Operator,
  OPERATORS,
  VALUE_RULES,
  type Condition,
} from './condition.types';

/** Checking a condition tree when a rule is saved (and before it is evaluated). */

const NODE_KINDS = ['all', 'any', 'not', 'path'] as const;
const LEAF_KEYS = new Set(['path', 'op', 'value']);

/**
 * Throws a {@link ConditionError} naming the first invalid node; returns normally for a valid tree.
 *
 * @example
 * validateCondition({ all: [{ path: 'data.amount', op: 'GT', value: 100 }] }); // ok
 * validateCondition({ any: [] }); // ConditionError "when: any must be a non-empty array"
 */
export function validateCondition(
  tree: unknown,
  rootPointer = 'when',
  roots: readonly string[] = CONDITION_ROOTS,
): asserts tree is Condition {
  validateNode(tree, rootPointer, 1, roots);
}

function validateNode(node: unknown, pointer: string, depth: number, roots: readonly string[]): void {
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
  if (kind === 'path') return validateLeaf(node, pointer, roots);

  const extra = Object.keys(node).filter((k) => k !== kind);
  if (extra.length > 0) throw new ConditionError(pointer, `unexpected key "${extra[0]}" next to "${kind}"`);
  if (kind === 'not') return validateNode(node.not, `${pointer}.not`, depth + 1, roots);

  const children = node[kind];
  if (!Array.isArray(children) || children.length === 0) {
    throw new ConditionError(pointer, `"${kind}" must be a non-empty array of conditions, got ${describe(children)}`);
  }
  children.forEach((child, i) => validateNode(child, `${pointer}.${kind}[${i}]`, depth + 1, roots));
}

function validateLeaf(node: Record<string, unknown>, pointer: string, roots: readonly string[]): void {
  const extra = Object.keys(node).filter((k) => !LEAF_KEYS.has(k));
  if (extra.length > 0) throw new ConditionError(pointer, `unexpected key "${extra[0]}" in a leaf (path, op, value)`);

  const { path, op } = node;
  if (typeof path !== 'string') throw new ConditionError(pointer, `path must be a string, got ${describe(path)}`);
  const pathProblem = checkPath(path, roots);
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

/** Why a path is invalid (not under one of `roots`, or an empty segment), or undefined when it is fine. */
export function checkPath(path: string, roots: readonly string[] = CONDITION_ROOTS): string | undefined {
  const segments = path.split('.');
  if (!roots.includes(segments[0]) || segments.length < 2) {
    const names = roots.map((r) => `"${r}."`);
    return `path "${path}" must start with ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  }
  if (segments.some((s) => s === '')) return `path "${path}" has an empty segment`;
  return undefined;
}

function isOperator(op: string): op is Operator {
  return (OPERATORS as readonly string[]).includes(op);
}
