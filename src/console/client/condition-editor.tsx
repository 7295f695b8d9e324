/**
 * A condition tree edited visually (README, "Console" → routing rules): groups (`all`/`any`), `not`, and leaves —
 * a path (suggested: `data.`, `profile.`, `event.` and the paths the tree already uses), an operator from the
 * server's list, and a value whose input follows the operator (number, text, true/false, list, date). **JSON**
 * shows the same tree as text to edit; text that is not a valid condition is reported and kept, and the visual
 * editor comes back once it parses. The server's error (its `pointer` names the node) is shown at that node.
 * The tree operations are pure, in condition-tree.ts.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  addChild,
  addToRoot,
  changeOperator,
  changeValueType,
  childrenOf,
  CONDITION_ROOTS,
  formatValue,
  isOperator,
  kindOf,
  moveChild,
  newLeaf,
  nodeAt,
  OPERATOR_WORDS,
  OPERATORS,
  parseConditionText,
  parseValue,
  pathProblem,
  pointerToPosition,
  positionToPointer,
  removeAt,
  replaceAt,
  setGroupMode,
  suggestPaths,
  toggleNot,
  toText,
  valueTypeOf,
  valueTypesFor,
  wrapInGroup,
  type GroupMode,
  type Json,
  type Position,
  type Tree,
  type ValueType,
} from './condition-tree';

/** A refused save: the server's message, and the node it names when it gave a pointer. */
export interface ConditionProblem {
  message: string;
  pointer?: string | null;
}

interface Props {
  /** Prefix of the editor's element ids. */
  id: string;
  legend: string;
  value: Json | null;
  onChange: (value: Json | null) => void;
  /** Told whether something typed is not in the tree yet (invalid JSON, a value that is not a number…): why, or null. */
  onProblem?: (problem: string | null) => void;
  /** The server's error about this condition. */
  error?: ConditionProblem | null;
  /** The pointer of the root in the server's errors: `when` for a routing rule. */
  rootPointer?: string;
  roots?: readonly string[];
}

interface Ctx {
  id: string;
  tree: Json;
  set: (tree: Json | null) => void;
  errorAt: Position | null;
  error: ConditionProblem | null | undefined;
  rootPointer: string;
  roots: readonly string[];
  report: (key: number, problem: string | null) => void;
}

const samePosition = (a: Position | null, b: Position) =>
  a !== null && a.length === b.length && a.every((s, i) => s === b[i]);

let nextKey = 0;

export function ConditionEditor(props: Props) {
  const rootPointer = props.rootPointer ?? 'when';
  const roots = props.roots ?? CONDITION_ROOTS;
  const [json, setJson] = useState(false);
  const [text, setText] = useState(() => toText(props.value));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const problems = useRef(new Map<number, string>());
  const onProblem = useRef(props.onProblem);
  onProblem.current = props.onProblem;

  const tell = () => {
    const first = jsonError ?? [...problems.current.values()][0] ?? null;
    onProblem.current?.(first);
  };
  useEffect(tell, [jsonError]);
  const report = (key: number, problem: string | null) => {
    if (problem === null) problems.current.delete(key);
    else problems.current.set(key, problem);
    const first = jsonError ?? [...problems.current.values()][0] ?? null;
    onProblem.current?.(first);
  };

  const errorAt =
    props.error?.pointer && props.value !== null ? pointerToPosition(props.error.pointer, rootPointer) : null;
  const located = errorAt !== null && nodeAt(props.value ?? undefined, errorAt) !== undefined;
  const errorId = `${props.id}-error`;

  const toggle = () => {
    if (json) {
      if (jsonError) return;
      setJson(false);
    } else {
      setText(toText(props.value));
      setJsonError(null);
      setJson(true);
    }
  };

  const ctx: Ctx = {
    id: props.id,
    tree: props.value as Json,
    set: (tree) => props.onChange(tree),
    errorAt: located ? errorAt : null,
    error: props.error,
    rootPointer,
    roots,
    report,
  };

  return (
    <fieldset class="condition-editor" aria-describedby={props.error && !located ? errorId : undefined}>
      <legend>{props.legend}</legend>
      <div class="row-actions">
        <button type="button" aria-pressed={json} onClick={toggle} disabled={json && jsonError !== null}>
          JSON
        </button>
        <span class="muted" aria-live="polite">
          {json ? 'Editing the condition as JSON.' : 'Editing the condition visually.'}
        </span>
      </div>
      {json ? (
        <>
          <label>
            Condition as JSON (empty: always holds)
            <textarea
              name={`${props.id}-json`}
              rows={10}
              class="mono"
              spellcheck={false}
              value={text}
              aria-invalid={jsonError || props.error ? true : undefined}
              aria-describedby={[jsonError ? `${props.id}-json-error` : '', props.error ? errorId : '']
                .filter(Boolean)
                .join(' ')}
              onInput={(e) => {
                const typed = e.currentTarget.value;
                setText(typed);
                const parsed = parseConditionText(typed);
                if (parsed.ok) {
                  setJsonError(null);
                  props.onChange(parsed.value);
                } else setJsonError(parsed.error);
              }}
            />
          </label>
          {jsonError && (
            <p id={`${props.id}-json-error`} class="field-error" role="alert">
              {jsonError} The text is kept; the visual editor comes back once it is a valid condition.
            </p>
          )}
        </>
      ) : props.value === null ? (
        <div class="row-actions">
          <span class="muted">No condition: it always holds.</span>
          <button type="button" onClick={() => props.onChange(newLeaf(roots[0]))}>
            Add a condition
          </button>
          <button type="button" onClick={() => props.onChange({ all: [newLeaf(roots[0])] })}>
            Add a group
          </button>
        </div>
      ) : (
        <>
          <datalist id={`${props.id}-paths`}>
            {suggestPaths(props.value, roots).map((p) => (
              <option key={p} value={p} />
            ))}
          </datalist>
          <NodeView ctx={ctx} position={[]} />
          <div class="row-actions">
            <button type="button" onClick={() => props.onChange(addToRoot(props.value, newLeaf(roots[0])))}>
              Add a condition
            </button>
            <button type="button" onClick={() => props.onChange(null)}>
              Clear (always holds)
            </button>
          </div>
        </>
      )}
      {props.error && (!located || json) && (
        <p id={errorId} class="field-error" role="alert">
          {props.error.message}
        </p>
      )}
    </fieldset>
  );
}

function NodeError({ ctx, position }: { ctx: Ctx; position: Position }) {
  if (!ctx.error || !samePosition(ctx.errorAt, position)) return null;
  return (
    <p id={`${ctx.id}-error`} class="field-error" role="alert">
      {ctx.error.message}
    </p>
  );
}

/** The actions every node has: negate, nest in a group, remove. */
function NodeActions({ ctx, position, label }: { ctx: Ctx; position: Position; label: string }) {
  const negated = kindOf(nodeAt(ctx.tree, position)) === 'not';
  return (
    <>
      <button
        type="button"
        aria-label={`${negated ? 'Un-negate' : 'Negate'} ${label}`}
        onClick={() => ctx.set(toggleNot(ctx.tree, position))}
      >
        {negated ? 'Un-negate' : 'Negate'}
      </button>
      <button
        type="button"
        aria-label={`Nest ${label} in a group`}
        onClick={() => ctx.set(wrapInGroup(ctx.tree, position, 'all'))}
      >
        Nest
      </button>
      <button type="button" aria-label={`Remove ${label}`} onClick={() => ctx.set(removeAt(ctx.tree, position))}>
        Remove
      </button>
    </>
  );
}

function NodeView({ ctx, position }: { ctx: Ctx; position: Position }) {
  const node = nodeAt(ctx.tree, position);
  const kind = kindOf(node);
  const pointer = positionToPointer(ctx.tree, position, ctx.rootPointer);
  const invalid = samePosition(ctx.errorAt, position);
  if (kind === 'all' || kind === 'any') {
    const children = childrenOf(node);
    const label = `group ${pointer}`;
    return (
      <fieldset class={`cond-group${invalid ? ' cond-invalid' : ''}`} aria-label={`Group ${pointer}`}>
        <div class="row-actions">
          <label class="inline">
            Match
            <select
              name={`${pointer}-mode`}
              value={kind}
              onChange={(e) => ctx.set(setGroupMode(ctx.tree, position, e.currentTarget.value as GroupMode))}
            >
              <option value="all">all of (and)</option>
              <option value="any">any of (or)</option>
            </select>
          </label>
          <NodeActions ctx={ctx} position={position} label={label} />
        </div>
        <NodeError ctx={ctx} position={position} />
        {children.length === 0 && <p class="muted">Empty group: add a condition to it.</p>}
        <ol class="cond-children">
          {children.map((_, i) => (
            <li key={i}>
              <NodeView ctx={ctx} position={[...position, i]} />
              {children.length > 1 && (
                <div class="row-actions">
                  <button
                    type="button"
                    disabled={i === 0}
                    aria-label={`Move ${positionToPointer(ctx.tree, [...position, i], ctx.rootPointer)} up`}
                    onClick={() => ctx.set(moveChild(ctx.tree, position, i, -1))}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    disabled={i === children.length - 1}
                    aria-label={`Move ${positionToPointer(ctx.tree, [...position, i], ctx.rootPointer)} down`}
                    onClick={() => ctx.set(moveChild(ctx.tree, position, i, 1))}
                  >
                    ↓
                  </button>
                </div>
              )}
            </li>
          ))}
        </ol>
        <div class="row-actions">
          <button
            type="button"
            aria-label={`Add condition to ${label}`}
            onClick={() => ctx.set(addChild(ctx.tree, position, newLeaf(ctx.roots[0])))}
          >
            Add condition
          </button>
          <button
            type="button"
            aria-label={`Add group to ${label}`}
            onClick={() =>
              ctx.set(addChild(ctx.tree, position, { [kind === 'all' ? 'any' : 'all']: [newLeaf(ctx.roots[0])] }))
            }
          >
            Add group
          </button>
        </div>
      </fieldset>
    );
  }
  if (kind === 'not') {
    return (
      <div class={`cond-not${invalid ? ' cond-invalid' : ''}`} role="group" aria-label={`Not ${pointer}`}>
        <div class="row-actions">
          <strong>NOT</strong>
          <NodeActions ctx={ctx} position={position} label={`not ${pointer}`} />
        </div>
        <NodeError ctx={ctx} position={position} />
        <NodeView ctx={ctx} position={[...position, 'not']} />
      </div>
    );
  }
  if (kind === 'leaf') return <LeafView ctx={ctx} position={position} pointer={pointer} invalid={invalid} />;
  return (
    <div class={`cond-unknown${invalid ? ' cond-invalid' : ''}`} role="group" aria-label={`Condition ${pointer}`}>
      <p class="muted">Not a group, a not or a comparison: edit it as JSON.</p>
      <pre class="json" tabIndex={0}>
        {JSON.stringify(node, null, 2)}
      </pre>
      <NodeError ctx={ctx} position={position} />
      <div class="row-actions">
        <NodeActions ctx={ctx} position={position} label={`condition ${pointer}`} />
      </div>
    </div>
  );
}

const TYPE_WORDS: Record<ValueType, string> = {
  none: 'no value',
  string: 'text',
  number: 'number',
  boolean: 'true/false',
  list: 'list',
  date: 'date',
};

function LeafView({
  ctx,
  position,
  pointer,
  invalid,
}: {
  ctx: Ctx;
  position: Position;
  pointer: string;
  invalid: boolean;
}) {
  const leaf = nodeAt(ctx.tree, position) as Tree;
  const op = String(leaf.op ?? '');
  const type = valueTypeOf(op, leaf.value);
  const types = valueTypesFor(op);
  const path = String(leaf.path);
  const hint = pathProblem(path, ctx.roots);
  const set = (next: Tree) => ctx.set(replaceAt(ctx.tree, position, next));
  const base = `${ctx.id}-${pointer.replace(/[^a-z0-9]+/gi, '-')}`;
  return (
    <div class={`cond-leaf${invalid ? ' cond-invalid' : ''}`} role="group" aria-label={`Condition ${pointer}`}>
      <div class="cond-fields">
        <label>
          Path
          <input
            name={`${base}-path`}
            class="mono"
            list={`${ctx.id}-paths`}
            value={path}
            spellcheck={false}
            aria-describedby={hint ? `${base}-hint` : undefined}
            onInput={(e) => set({ ...leaf, path: e.currentTarget.value })}
          />
        </label>
        <label>
          Operator
          <select
            name={`${base}-op`}
            value={op}
            onChange={(e) => {
              const next = e.currentTarget.value;
              if (isOperator(next)) set(changeOperator(leaf, next));
            }}
          >
            {!isOperator(op) && <option value={op}>{op || '(none)'}</option>}
            {OPERATORS.map((o) => (
              <option key={o} value={o}>
                {OPERATOR_WORDS[o]} ({o})
              </option>
            ))}
          </select>
        </label>
        {types.length > 1 && (
          <label>
            Value type
            <select
              name={`${base}-type`}
              value={type}
              onChange={(e) => set(changeValueType(leaf, e.currentTarget.value as ValueType))}
            >
              {types.map((t) => (
                <option key={t} value={t}>
                  {TYPE_WORDS[t]}
                </option>
              ))}
            </select>
          </label>
        )}
        {type !== 'none' && (
          <ValueInput
            key={type}
            base={base}
            type={type}
            value={leaf.value}
            report={ctx.report}
            onValue={(value) => set({ path: leaf.path, op: leaf.op, value: value as Json })}
          />
        )}
      </div>
      {hint && (
        <p id={`${base}-hint`} class="muted hint">
          {hint}
        </p>
      )}
      <NodeError ctx={ctx} position={position} />
      <div class="row-actions">
        <NodeActions ctx={ctx} position={position} label={`condition ${pointer}`} />
      </div>
    </div>
  );
}

const PLACEHOLDERS: Partial<Record<ValueType, string>> = {
  number: '100',
  list: 'DE, FR or ["a", 1]',
  date: '2024-05-01, now-7d',
};

/** A value's input: the typed text is kept even when it does not mean a value yet (then the error says why). */
function ValueInput(props: {
  base: string;
  type: ValueType;
  value: unknown;
  report: (key: number, problem: string | null) => void;
  onValue: (value: Json | undefined) => void;
}) {
  const key = useRef(++nextKey);
  const [text, setText] = useState(() => formatValue(props.type, props.value));
  const [error, setError] = useState<string | null>(null);
  const emitted = useRef(JSON.stringify(props.value));
  const current = JSON.stringify(props.value);
  useEffect(() => {
    // changed elsewhere (the JSON view, a removed sibling): show the tree's value
    if (current !== emitted.current) {
      emitted.current = current;
      setText(formatValue(props.type, props.value));
      setError(null);
      props.report(key.current, null);
    }
  }, [current]);
  useEffect(() => () => props.report(key.current, null), []);
  const change = (typed: string) => {
    setText(typed);
    const parsed = parseValue(props.type, typed);
    if (parsed.ok) {
      setError(null);
      props.report(key.current, null);
      emitted.current = JSON.stringify(parsed.value);
      props.onValue(parsed.value);
    } else {
      setError(parsed.error);
      props.report(key.current, `A value is not valid: ${parsed.error}`);
    }
  };
  const errorId = `${props.base}-value-error`;
  return (
    <>
      <label>
        Value
        {props.type === 'boolean' ? (
          <select name={`${props.base}-value`} value={text} onChange={(e) => change(e.currentTarget.value)}>
            <option value="true">true</option>
            <option value="false">false</option>
          </select>
        ) : (
          <input
            name={`${props.base}-value`}
            value={text}
            inputMode={props.type === 'number' ? 'decimal' : undefined}
            placeholder={PLACEHOLDERS[props.type]}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
            onInput={(e) => change(e.currentTarget.value)}
          />
        )}
      </label>
      {error && (
        <p id={errorId} class="field-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
