/**
 * The pure side of the console's condition editor (condition-editor.tsx): the condition trees of routing rules and
 * workflow steps (README, "Routing rules": `{"all": […]}`, `{"any": […]}`, `{"not": {…}}` and leaves
 * `{"path": "data.amount", "op": "GT", "value": 100}`), edited immutably by the position of a node. The operators
 * and what each one's value must be are the server's (tests/console/condition-editor.test.ts checks they match);
 * the server stays the judge of a tree: it is validated when saved, and its error names the node by a pointer
 * (`when.all[1].any[0]`), which {@link pointerToPosition} turns into a position here.
 */

/** Every operator, in the server's documentation order. */
export const OPERATORS = [
  'EQ',
  'NEQ',
  'GT',
  'GTE',
  'LT',
  'LTE',
  'IN',
  'NOT_IN',
  'INCLUDES',
  'EXISTS',
  'NOT_EXISTS',
  'STARTS_WITH',
  'ENDS_WITH',
  'IS_BEFORE',
  'IS_AFTER',
] as const;
export type Operator = (typeof OPERATORS)[number];

export type ValueRule = 'none' | 'any' | 'array' | 'string' | 'orderable' | 'date';

/** What each operator's `value` must be (the server's rules). */
export const VALUE_RULES: Record<Operator, ValueRule> = {
  EQ: 'any',
  NEQ: 'any',
  GT: 'orderable',
  GTE: 'orderable',
  LT: 'orderable',
  LTE: 'orderable',
  IN: 'array',
  NOT_IN: 'array',
  INCLUDES: 'any',
  EXISTS: 'none',
  NOT_EXISTS: 'none',
  STARTS_WITH: 'string',
  ENDS_WITH: 'string',
  IS_BEFORE: 'date',
  IS_AFTER: 'date',
};

/** Each operator in words, for the select and for a tree read aloud. */
export const OPERATOR_WORDS: Record<Operator, string> = {
  EQ: 'equals',
  NEQ: 'does not equal',
  GT: 'is greater than',
  GTE: 'is at least',
  LT: 'is less than',
  LTE: 'is at most',
  IN: 'is one of',
  NOT_IN: 'is none of',
  INCLUDES: 'includes',
  EXISTS: 'exists',
  NOT_EXISTS: 'does not exist',
  STARTS_WITH: 'starts with',
  ENDS_WITH: 'ends with',
  IS_BEFORE: 'is before',
  IS_AFTER: 'is after',
};

/** The roots a routing rule's path may start at; a workflow step after a digest adds `digest`. */
export const CONDITION_ROOTS = ['data', 'profile', 'event'] as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Tree = { [key: string]: Json };
export type GroupMode = 'all' | 'any';

/** Where a node sits: from the root, a child's index in a group, or `not` for a not's operand. */
export type Position = readonly (number | 'not')[];

export type NodeKind = 'all' | 'any' | 'not' | 'leaf' | 'unknown';

const isObject = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isOperator(op: unknown): op is Operator {
  return typeof op === 'string' && (OPERATORS as readonly string[]).includes(op);
}

/** What a node is; `unknown` for anything the editor cannot show as a group, a not or a leaf (left as JSON). */
export function kindOf(node: unknown): NodeKind {
  if (!isObject(node)) return 'unknown';
  const keys = Object.keys(node);
  if (keys.length === 1 && Array.isArray(node.all)) return 'all';
  if (keys.length === 1 && Array.isArray(node.any)) return 'any';
  if (keys.length === 1 && 'not' in node) return 'not';
  if (typeof node.path === 'string' && keys.every((k) => k === 'path' || k === 'op' || k === 'value')) return 'leaf';
  return 'unknown';
}

/** The children of a group (none for any other node). */
export function childrenOf(node: unknown): Json[] {
  const kind = kindOf(node);
  return kind === 'all' || kind === 'any' ? ((node as Tree)[kind] as Json[]) : [];
}

/** The node at `position`, or undefined when there is none. */
export function nodeAt(tree: Json | undefined, position: Position): Json | undefined {
  let node: Json | undefined = tree;
  for (const step of position) {
    if (node === undefined) return undefined;
    if (step === 'not') node = kindOf(node) === 'not' ? (node as Tree).not : undefined;
    else node = childrenOf(node)[step];
  }
  return node;
}

/** A copy of `tree` with the node at `position` replaced by `change(node)`; `null` from `change` removes it. */
export function updateAt(tree: Json, position: Position, change: (node: Json) => Json | null): Json | null {
  if (position.length === 0) return change(tree);
  const [step, ...rest] = position;
  if (step === 'not') {
    if (kindOf(tree) !== 'not') throw new Error('no not node at this position');
    const operand = updateAt((tree as Tree).not, rest, change);
    // a not without an operand goes with it
    return operand === null ? null : { not: operand };
  }
  const kind = kindOf(tree);
  if (kind !== 'all' && kind !== 'any') throw new Error('no group at this position');
  const children = [...childrenOf(tree)];
  if (step < 0 || step >= children.length) throw new Error('no child at this position');
  const child = updateAt(children[step], rest, change);
  if (child === null) children.splice(step, 1);
  else children[step] = child;
  return { [kind]: children };
}

/** Removes the node at `position`; removing the root leaves no condition (`null`: always holds). */
export function removeAt(tree: Json, position: Position): Json | null {
  return updateAt(tree, position, () => null);
}

/** Replaces the node at `position`. */
export function replaceAt(tree: Json, position: Position, node: Json): Json {
  return updateAt(tree, position, () => node) ?? node;
}

/** A new leaf: `data.` equals "" (the path is for the user to finish). */
export function newLeaf(root: string = CONDITION_ROOTS[0]): Tree {
  return { path: `${root}.`, op: 'EQ', value: '' };
}

/** Adds `node` at the end of the group at `position`. */
export function addChild(tree: Json, position: Position, node: Json): Json {
  return replaceAt(tree, position, appendTo(nodeAt(tree, position), node));
}

function appendTo(group: Json | undefined, node: Json): Json {
  const kind = kindOf(group);
  if (kind !== 'all' && kind !== 'any') throw new Error('no group at this position');
  return { [kind]: [...childrenOf(group), node] };
}

/** Adds a node to the condition: to the root group, or with the root in a new `all` group; the first node when empty. */
export function addToRoot(tree: Json | null, node: Json): Json {
  if (tree === null) return node;
  const kind = kindOf(tree);
  if (kind === 'all' || kind === 'any') return appendTo(tree, node);
  return { all: [tree, node] };
}

/** Turns a group's `all` into `any` or back, keeping its children. */
export function setGroupMode(tree: Json, position: Position, mode: GroupMode): Json {
  return replaceAt(tree, position, { [mode]: childrenOf(nodeAt(tree, position)) });
}

/** Puts the node at `position` in a new group of its own (to add siblings to it: nesting). */
export function wrapInGroup(tree: Json, position: Position, mode: GroupMode): Json {
  return replaceAt(tree, position, { [mode]: [nodeAt(tree, position) as Json] });
}

/** Negates the node at `position`: a `not` around it, or, when it is a `not` already, its operand. */
export function toggleNot(tree: Json, position: Position): Json {
  const node = nodeAt(tree, position) as Json;
  return replaceAt(tree, position, kindOf(node) === 'not' ? (node as Tree).not : { not: node });
}

/** Moves the child at `index` of the group at `position` up (-1) or down (+1). */
export function moveChild(tree: Json, position: Position, index: number, by: -1 | 1): Json {
  const group = nodeAt(tree, position);
  const kind = kindOf(group);
  if (kind !== 'all' && kind !== 'any') throw new Error('no group at this position');
  const children = [...childrenOf(group)];
  const to = index + by;
  if (to < 0 || to >= children.length) return tree;
  [children[index], children[to]] = [children[to], children[index]];
  return replaceAt(tree, position, { [kind]: children });
}

/** The kinds of value the inputs offer: the value's own input, by operator. */
export type ValueType = 'none' | 'string' | 'number' | 'boolean' | 'list' | 'date';

/** The value types an operator accepts, the first being its default. */
export function valueTypesFor(op: string): ValueType[] {
  switch (isOperator(op) ? VALUE_RULES[op] : 'any') {
    case 'none':
      return ['none'];
    case 'array':
      return ['list'];
    case 'string':
      return ['string'];
    case 'orderable':
      return ['number', 'date'];
    case 'date':
      return ['date'];
    default:
      return ['string', 'number', 'boolean', 'list'];
  }
}

/** The type of a leaf's value, among those its operator accepts. */
export function valueTypeOf(op: string, value: unknown): ValueType {
  const allowed = valueTypesFor(op);
  const natural: ValueType =
    value === undefined
      ? 'none'
      : typeof value === 'number'
        ? 'number'
        : typeof value === 'boolean'
          ? 'boolean'
          : Array.isArray(value)
            ? 'list'
            : typeof value === 'string' && !allowed.includes('string')
              ? allowed.includes('date') && isDateText(value)
                ? 'date'
                : allowed[0]
              : 'string';
  return allowed.includes(natural) ? natural : allowed[0];
}

/** A value turned into `type`, keeping what can be kept (`"100"` → 100, `5` → `["5"]`…). */
export function coerceValue(value: unknown, type: ValueType): Json | undefined {
  switch (type) {
    case 'none':
      return undefined;
    case 'number': {
      const n = typeof value === 'number' ? value : Number(typeof value === 'string' ? value.trim() : NaN);
      return Number.isFinite(n) && value !== '' ? n : 0;
    }
    case 'boolean':
      return value === true || value === 'true';
    case 'list':
      return Array.isArray(value) ? (value as Json[]) : value === undefined || value === '' ? [] : [value as Json];
    case 'date':
      return typeof value === 'string' && (isDateText(value) || value === '') ? value : 'now';
    case 'string':
      return value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** A leaf with another operator: its value follows the operator (dropped for EXISTS, a list for IN…). */
export function changeOperator(leaf: Tree, op: Operator): Tree {
  const type = valueTypeOf(op, leaf.value);
  const value = coerceValue(leaf.value, type);
  const next: Tree = { path: leaf.path, op };
  if (value !== undefined) next.value = value;
  return next;
}

/** A leaf whose value is retyped (e.g. `"5"` as the number 5). */
export function changeValueType(leaf: Tree, type: ValueType): Tree {
  const value = coerceValue(leaf.value, type);
  const next: Tree = { path: leaf.path, op: leaf.op };
  if (value !== undefined) next.value = value;
  return next;
}

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const RELATIVE_DATE = /^now(?:([+-])(\d{1,9})([smhdw]))?$/;

/** An ISO date (`2024-05-01`, `2024-05-01T12:00:00Z`) or a relative one (`now`, `now-7d`, `now+2h`). */
export function isDateText(text: string): boolean {
  return ISO_DATE.test(text) || RELATIVE_DATE.test(text);
}

/** How a value of `type` is shown in its input. */
export function formatValue(type: ValueType, value: unknown): string {
  if (value === undefined || type === 'none') return '';
  if (type === 'list') {
    const items = Array.isArray(value) ? value : [value];
    return items.every((i) => typeof i === 'string' && !i.includes(',') && i.trim() === i && i !== '')
      ? items.join(', ')
      : JSON.stringify(items);
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * What the text of a value input means for `type`; an error (and the text kept by the caller) when it means
 * nothing. A list is comma-separated strings (`DE, FR`), or a JSON array for other items (`[1, 2]`).
 */
export function parseValue(type: ValueType, text: string): Parsed<Json | undefined> {
  switch (type) {
    case 'none':
      return { ok: true, value: undefined };
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = Number(text.trim());
      return text.trim() !== '' && Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, error: 'Enter a number, e.g. 100 or 10.5.' };
    }
    case 'boolean':
      return text === 'true' || text === 'false'
        ? { ok: true, value: text === 'true' }
        : { ok: false, error: 'Choose true or false.' };
    case 'date':
      return isDateText(text.trim())
        ? { ok: true, value: text.trim() }
        : {
            ok: false,
            error: 'Enter an ISO date (2024-05-01, 2024-05-01T12:00:00Z) or a relative one (now, now-7d, now+2h).',
          };
    case 'list': {
      const trimmed = text.trim();
      if (trimmed.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(trimmed);
          if (Array.isArray(parsed)) return { ok: true, value: parsed as Json[] };
        } catch {
          // reported below
        }
        return { ok: false, error: 'Not a valid JSON array: write ["a", "b"] or a, b.' };
      }
      return { ok: true, value: trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim()) };
    }
  }
}

/** Why a path cannot be right yet (not under one of `roots`, an empty segment), or null. */
export function pathProblem(path: string, roots: readonly string[] = CONDITION_ROOTS): string | null {
  const segments = path.split('.');
  if (!roots.includes(segments[0]) || segments.length < 2)
    return `Start the path with ${roots.map((r) => `${r}.`).join(', ')}`;
  if (segments.some((s) => s === '')) return 'The path has an empty segment (two dots, or a dot at the end).';
  return null;
}

/** Paths to suggest for a leaf: the roots, then the paths the tree already uses. */
export function suggestPaths(tree: Json | null, roots: readonly string[] = CONDITION_ROOTS): string[] {
  const used = new Set<string>();
  const walk = (node: Json | undefined) => {
    const kind = kindOf(node);
    if (kind === 'leaf') used.add(String((node as Tree).path));
    else if (kind === 'not') walk((node as Tree).not);
    else childrenOf(node).forEach(walk);
  };
  walk(tree ?? undefined);
  return [...new Set([...roots.map((r) => `${r}.`), ...[...used].filter((p) => p.includes('.')).sort()])];
}

/** The condition's text: pretty JSON, or empty for no condition. */
export function toText(tree: Json | null): string {
  return tree === null ? '' : JSON.stringify(tree, null, 2);
}

/** Typed condition text: empty is no condition; anything else must be a JSON object. */
export function parseConditionText(text: string): Parsed<Tree | null> {
  if (!text.trim()) return { ok: true, value: null };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isObject(parsed)) return { ok: false, error: 'The condition must be a JSON object.' };
  return { ok: true, value: parsed };
}

/**
 * The position a server pointer names, e.g. `when.all[1].not` → `[1, 'not']` (with `rootPointer` "when");
 * null when the pointer is not under `rootPointer` or not of this shape.
 */
export function pointerToPosition(pointer: string, rootPointer = 'when'): Position | null {
  if (pointer !== rootPointer && !pointer.startsWith(`${rootPointer}.`)) return null;
  const rest = pointer.slice(rootPointer.length);
  const steps: (number | 'not')[] = [];
  const step = /^\.(?:(?:all|any)\[(\d+)\]|(not))/;
  let left = rest;
  while (left) {
    const m = step.exec(left);
    if (!m) return null;
    steps.push(m[2] ? 'not' : Number(m[1]));
    left = left.slice(m[0].length);
  }
  return steps;
}

/** The pointer of a position (the inverse of {@link pointerToPosition}), for the tree as it is. */
export function positionToPointer(tree: Json | null, position: Position, rootPointer = 'when'): string {
  let pointer = rootPointer;
  let node: Json | undefined = tree ?? undefined;
  for (const step of position) {
    if (step === 'not') {
      pointer += '.not';
      node = (node as Tree | undefined)?.not;
    } else {
      const kind = kindOf(node);
      pointer += `.${kind}[${step}]`;
      node = childrenOf(node)[step];
    }
  }
  return pointer;
}

const show = (v: unknown) => JSON.stringify(v);

/** A condition tree in plain words, e.g. `data.total is greater than 100 and profile.plan equals "pro"`. */
export function describeCondition(when: unknown): string {
  if (when == null) return 'always';
  const node = when as Record<string, unknown>;
  if (Array.isArray(node.all)) return node.all.map((c) => `(${describeCondition(c)})`).join(' and ') || 'always';
  if (Array.isArray(node.any)) return node.any.map((c) => `(${describeCondition(c)})`).join(' or ') || 'never';
  if (node.not !== undefined) return `not (${describeCondition(node.not)})`;
  if (typeof node.path === 'string') {
    const op = isOperator(node.op) ? OPERATOR_WORDS[node.op] : String(node.op);
    return node.op === 'EXISTS' || node.op === 'NOT_EXISTS'
      ? `${node.path} ${op}`
      : `${node.path} ${op} ${show(node.value)}`;
  }
  return show(when);
}
