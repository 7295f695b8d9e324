import { helperName, isBlank } from './template-engine';

/**
 * Missing variables: the dotted paths a template referenced that resolved to `undefined`.
 *
 * A walk over the AST that follows the render: `if`/`unless` take the branch the data selects, `each`
 * visits every item with the item as context (and `as |item index|` block params), `with` and mustache
 * sections (`{{#data.x}}…{{/data.x}}`) switch the context, `../` climbs contexts, `@root` is the scope.
 * Inside blocks, names are reported from the scope: `{{#each data.items}}{{sku}}{{/each}}` → `data.items[].sku`,
 * `{{#with profile.address}}{{city}}{{/with}}` → `profile.address.city`.
 * Not reported, by design: conditions of `if`/`unless`/sections (they test for presence), the target of
 * an `each`/`with` that has an `{{else}}`, `@index`/`@key`/… data variables, and the arguments of
 * `default` unless every one of them is missing. Approximated: results of helpers other than `default`
 * and `lookup` are unknown (treated as undefined, not reported).
 */

interface Frame {
  value: unknown;
  label: string | undefined;
}
interface Env {
  contexts: Frame[]; // innermost last
  blockParams: Map<string, Frame>;
  data: Record<string, unknown>;
}
interface Resolved {
  value: unknown;
  label?: string;
  reportable: boolean;
}

export function collectMissing(ast: hbs.AST.Program, context: Record<string, unknown>, missing: Set<string>): void {
  const root: Frame = { value: context, label: '' };
  try {
    walkProgram(ast, { contexts: [root], blockParams: new Map(), data: { root: context } }, missing);
  } catch {
    // best effort: the rendered text is what matters
  }
}

function walkProgram(program: hbs.AST.Program | undefined, env: Env, missing: Set<string>): void {
  program?.body.forEach((statement) => walkStatement(statement, env, missing));
}

function walkStatement(node: hbs.AST.Node, env: Env, missing: Set<string>): void {
  if (node.type === 'MustacheStatement') {
    const m = node as hbs.AST.MustacheStatement;
    if (m.path.type !== 'PathExpression') return m.params.forEach((p) => evaluate(p, env, missing, true));
    const path = m.path as hbs.AST.PathExpression;
    if (helperName(m) !== undefined || m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0) {
      callHelper(m, env, missing);
      return;
    }
    evaluate(path, env, missing, true);
    return;
  }
  if (node.type === 'BlockStatement') return walkBlock(node as hbs.AST.BlockStatement, env, missing);
}

function walkBlock(block: hbs.AST.BlockStatement, env: Env, missing: Set<string>): void {
  const name = helperName(block);
  block.hash?.pairs.forEach((p) => evaluate(p.value, env, missing, true));
  const hasElse = !!block.inverse;

  if (name === 'if' || name === 'unless') {
    const cond = evaluate(block.params[0], env, missing, false).value;
    const includeZero = block.hash?.pairs.some((p) => p.key === 'includeZero' && literalValue(p.value) === true);
    const truthy = !((!includeZero && !cond) || isEmpty(cond));
    return walkProgram(truthy === (name === 'if') ? block.program : block.inverse, env, missing);
  }
  if (name === 'with') {
    const target = evaluate(block.params[0], env, missing, !hasElse);
    if (isEmpty(target.value)) return walkProgram(block.inverse, env, missing);
    const frame: Frame = { value: target.value, label: target.label };
    return walkProgram(block.program, withBlockParams(pushContext(env, frame), block.program, [frame]), missing);
  }
  if (name === 'each') {
    const target = evaluate(block.params[0], env, missing, !hasElse);
    if (!iterate(target, block, env, missing)) walkProgram(block.inverse, env, missing);
    return;
  }
  if (name !== undefined) {
    // lookup / default used as blocks: arguments only, body in the same context
    block.params.forEach((p) => evaluate(p, env, missing, true));
    return walkProgram(block.program, env, missing);
  }
  // A section: {{#data.x}}…{{/data.x}} behaves like if (booleans), each (arrays) or with (anything else).
  const target = evaluate(block.path, env, missing, false);
  const value = target.value;
  if (value === true) return walkProgram(block.program, env, missing);
  if (value === false || value === null || value === undefined) return walkProgram(block.inverse, env, missing);
  if (Array.isArray(value)) {
    if (!iterate(target, block, env, missing)) walkProgram(block.inverse, env, missing);
    return;
  }
  const frame: Frame = { value, label: target.label };
  walkProgram(block.program, pushContext(env, frame), missing);
}

/** Walks an `each` body once per item; false when there was nothing to iterate. */
function iterate(target: Resolved, block: hbs.AST.BlockStatement, env: Env, missing: Set<string>): boolean {
  const list = target.value;
  if (!list || typeof list !== 'object') return false;
  const entries: [string | number, unknown][] = Array.isArray(list)
    ? list.map((v, i) => [i, v])
    : Object.keys(list).map((k) => [k, (list as Record<string, unknown>)[k]]);
  const label = target.label === undefined ? undefined : `${target.label}[]`;
  entries.forEach(([key, item], index) => {
    const frame: Frame = { value: item, label };
    const inner = pushContext(env, frame, { index, key, first: index === 0, last: index === entries.length - 1 });
    walkProgram(
      block.program,
      withBlockParams(inner, block.program, [frame, { value: key, label: undefined }]),
      missing,
    );
  });
  return entries.length > 0;
}

function pushContext(env: Env, frame: Frame, data?: Record<string, unknown>): Env {
  return { ...env, contexts: [...env.contexts, frame], data: data ? { ...env.data, ...data } : env.data };
}

function withBlockParams(env: Env, program: hbs.AST.Program, frames: Frame[]): Env {
  const names = program.blockParams ?? [];
  if (names.length === 0) return env;
  const blockParams = new Map(env.blockParams);
  names.forEach((n, i) => blockParams.set(n, frames[i] ?? { value: undefined, label: undefined }));
  return { ...env, blockParams };
}

/** Helper calls in mustaches and subexpressions: arguments are references; `default` and `lookup` are computed. */
function callHelper(node: hbs.AST.MustacheStatement | hbs.AST.SubExpression, env: Env, missing: Set<string>): Resolved {
  const name = helperName(node);
  node.hash?.pairs.forEach((p) => evaluate(p.value, env, missing, true));
  if (name === 'default') {
    const args = node.params.map((p) => evaluate(p, env, missing, false));
    const chosen = args.find((a) => !isBlank(a.value));
    if (!chosen) args.forEach((a) => reportIfMissing(a, missing));
    return { value: chosen?.value ?? '', reportable: false };
  }
  if (name === 'lookup') {
    const [obj, key] = node.params.map((p) => evaluate(p, env, missing, true));
    if (obj.value === null || obj.value === undefined) return { value: undefined, reportable: false };
    const field = key.value;
    if (typeof field !== 'string' && typeof field !== 'number') return { value: undefined, reportable: false };
    const resolved: Resolved = {
      value: lookupProperty(obj.value, String(field)),
      label: obj.label === undefined ? undefined : joinLabel(obj.label, [String(field)]),
      reportable: true,
    };
    reportIfMissing(resolved, missing);
    return resolved;
  }
  node.params.forEach((p) => evaluate(p, env, missing, true));
  return { value: undefined, reportable: false };
}

function evaluate(expr: hbs.AST.Node | undefined, env: Env, missing: Set<string>, report: boolean): Resolved {
  if (!expr) return { value: undefined, reportable: false };
  switch (expr.type) {
    case 'PathExpression': {
      const resolved = resolvePath(expr as hbs.AST.PathExpression, env);
      if (report) reportIfMissing(resolved, missing);
      return resolved;
    }
    case 'SubExpression':
      return callHelper(expr as hbs.AST.SubExpression, env, missing);
    default:
      return { value: literalValue(expr), reportable: false };
  }
}

function resolvePath(path: hbs.AST.PathExpression, env: Env): Resolved {
  const scoped = /^(this\b|\.)/.test(path.original);
  if (path.data) {
    const [head, ...rest] = path.parts;
    if (head !== 'root') return { value: lookupParts(env.data[head], rest), reportable: false };
    return { value: lookupParts(env.contexts[0].value, rest), label: joinLabel('', rest), reportable: true };
  }
  if (!scoped && path.depth === 0 && path.parts.length > 0 && env.blockParams.has(path.parts[0])) {
    const frame = env.blockParams.get(path.parts[0])!;
    const rest = path.parts.slice(1);
    const label = frame.label === undefined ? undefined : joinLabel(frame.label, rest);
    return { value: lookupParts(frame.value, rest), label, reportable: label !== undefined };
  }
  const frame = env.contexts[env.contexts.length - 1 - path.depth];
  if (!frame) return { value: undefined, label: path.original, reportable: true };
  const label = frame.label === undefined ? undefined : joinLabel(frame.label, path.parts);
  return { value: lookupParts(frame.value, path.parts), label, reportable: label !== undefined };
}

function reportIfMissing(resolved: Resolved, missing: Set<string>): void {
  if (resolved.reportable && resolved.value === undefined && resolved.label) missing.add(resolved.label);
}

function joinLabel(base: string, parts: string[]): string {
  if (parts.length === 0) return base || 'this';
  return base ? `${base}.${parts.join('.')}` : parts.join('.');
}

/** Walks `parts` the way Handlebars does: stops at null, reads own properties only. */
function lookupParts(value: unknown, parts: string[]): unknown {
  let current = value;
  for (const part of parts) {
    if (current === null || current === undefined) return current === null ? undefined : current;
    current = lookupProperty(current, part);
  }
  return current;
}

function lookupProperty(parent: unknown, name: string): unknown {
  if (parent === null || parent === undefined) return undefined;
  const result = (parent as Record<string, unknown>)[name];
  if (result === null || result === undefined) return result;
  return Object.prototype.hasOwnProperty.call(parent, name) ? result : undefined;
}

function literalValue(expr: hbs.AST.Node): unknown {
  switch (expr.type) {
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return (expr as hbs.AST.StringLiteral).value;
    case 'NullLiteral':
      return null;
    default:
      return undefined;
  }
}

/** Handlebars' `isEmpty`: falsy except 0, or an empty array. */
function isEmpty(value: unknown): boolean {
  return (!value && value !== 0) || (Array.isArray(value) && value.length === 0);
}
