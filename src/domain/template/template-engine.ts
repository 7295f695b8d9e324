import Handlebars from 'handlebars';
import { TemplateContentError, type TemplateContentLocation } from './template.errors';
import { explainSyntax, lineColumn, prepareSource, restoreBraces, wordParseError } from './template-syntax';

/**
 * The Handlebars engine templates run on: an isolated instance with Pigeon's helpers, parsing with
 * a check of what would fail at render time, and a cache of parsed and compiled templates by source.
 *
 * Helpers: the Handlebars built-ins `if`, `unless`, `each`, `with`, `lookup`, and `default`. Not `log`
 * (templates must not write profile data to the server's stdout). Partials and decorators are not
 * supported (a template is one self-contained string).
 */

/** The helpers templates may call. */
export const TEMPLATE_HELPERS: readonly string[] = ['if', 'unless', 'each', 'with', 'lookup', 'default'];

// An isolated instance: our helpers never leak into (or from) the global Handlebars.
const engine = Handlebars.create();
engine.unregisterHelper('log');

/**
 * `{{default value fallback…}}`: the first argument that is not `undefined`, `null` or `""`; else `""`.
 *
 * @example
 * {{default profile.firstName "there"}}  →  "there" when the trait is missing
 */
engine.registerHelper('default', (...args: unknown[]) => {
  const values = args.slice(0, -1); // the last argument is Handlebars' options
  return values.find((v) => !isBlank(v)) ?? '';
});

export interface ParsedTemplate {
  /** The AST with whitespace control applied: what checks and the missing-variable walk read. */
  ast: hbs.AST.Program;
  /** The AST as parsed (before whitespace control, which compiling applies): what gets compiled. */
  raw: hbs.AST.Program;
  escaped?: HandlebarsTemplateDelegate;
  unescaped?: HandlebarsTemplateDelegate;
  json?: HandlebarsTemplateDelegate;
}

const CACHE_LIMIT = 500;
const cache = new Map<string, ParsedTemplate>();

/**
 * Parses and checks a template; throws a located {@link TemplateContentError}. A `}` right after a `{{…}}`
 * mustache's `}}` is text (`{"n":{{data.n}}}` is `{{data.n}}` and `}`), see `template-syntax.ts`.
 */
export function parseTemplate(source: string, location: TemplateContentLocation): ParsedTemplate {
  const hit = cache.get(source);
  if (hit) return hit;
  const { text, placeholder } = prepareSource(source);
  let raw: hbs.AST.Program;
  let ast: hbs.AST.Program;
  try {
    raw = engine.parseWithoutProcessing(text);
    if (placeholder) restoreBraces(raw, placeholder);
    // parse() of an AST applies only the whitespace control (`~`, standalone lines)
    ast = (engine.parse as unknown as (program: hbs.AST.Program) => hbs.AST.Program)(structuredClone(raw));
  } catch (err) {
    throw syntaxError(err, location, text);
  }
  checkAst(ast, location);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  const parsed: ParsedTemplate = { ast, raw };
  cache.set(source, parsed);
  return parsed;
}

export function compiled(parsed: ParsedTemplate, escapeHtml: boolean): HandlebarsTemplateDelegate {
  const ast = () => structuredClone(parsed.raw);
  if (escapeHtml) return (parsed.escaped ??= engine.compile(ast(), { noEscape: false, strict: false }));
  return (parsed.unescaped ??= engine.compile(ast(), { noEscape: true, strict: false }));
}

/** The helper every `{{…}}` output goes through in a JSON template (a name templates cannot call: see checkAst). */
export const JSON_VALUE_HELPER = '__pigeon_json_value__';

/**
 * The template compiled so that every value a `{{…}}` outputs goes through {@link JSON_VALUE_HELPER} (pass it in
 * the render's `helpers`); a `{{{…}}}` triple-stash still inserts its text as is.
 */
export function compiledForJson(parsed: ParsedTemplate): HandlebarsTemplateDelegate {
  return (parsed.json ??= engine.compile(wrapOutputs(structuredClone(parsed.raw)), { noEscape: true, strict: false }));
}

/** `{{path}}` → `{{helper path}}`, `{{fn a b}}` → `{{helper (fn a b)}}`, for every escaped mustache. */
function wrapOutputs<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach((n, i) => (node[i] = wrapOutputs(n)));
    return node;
  }
  if (!node || typeof node !== 'object') return node;
  const n = node as unknown as Record<string, unknown>;
  if (n.type === 'MustacheStatement') {
    const m = n as unknown as hbs.AST.MustacheStatement;
    if (!m.escaped) return node;
    const call = m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0;
    const inner: hbs.AST.Expression = call
      ? ({ type: 'SubExpression', path: m.path, params: m.params, hash: m.hash, loc: m.loc } as hbs.AST.SubExpression)
      : m.path;
    const helper: hbs.AST.PathExpression = {
      type: 'PathExpression',
      data: false,
      depth: 0,
      parts: [JSON_VALUE_HELPER],
      original: JSON_VALUE_HELPER,
      loc: m.loc,
    };
    return { ...m, path: helper, params: [inner], hash: undefined } as unknown as T;
  }
  for (const key of Object.keys(n)) if (key !== 'loc') n[key] = wrapOutputs(n[key]);
  return node;
}

/**
 * Turns a Handlebars parser / compiler error into a located one, in a template author's words where the
 * scanner of `template-syntax.ts` can tell what is wrong ("`{{#if}}` is never closed (add `{{/if}}`)").
 * `source` is the text Handlebars read (needed for the scanner's explanation; absent for render-time errors).
 */
export function syntaxError(err: unknown, location: TemplateContentLocation, source?: string): TemplateContentError {
  const raw = err instanceof Error ? err.message : String(err);
  if (source !== undefined) {
    const explained = explainSyntax(source);
    if (explained) {
      return new TemplateContentError(explained.message, { ...location, ...lineColumn(source, explained.offset) });
    }
  }
  const e = err as { lineNumber?: number; column?: number };
  // Handlebars exceptions with a node ("if doesn't match each - 1:3"): 1-based line, 0-based column.
  if (typeof e.lineNumber === 'number') {
    const message = raw.replace(/ - \d+:\d+$/, '');
    const column = typeof e.column === 'number' ? e.column + 1 : undefined;
    return new TemplateContentError(message, { ...location, line: e.lineNumber, column });
  }
  // Parser errors: "Parse error on line 3:\n<excerpt>\n----^\nExpecting …, got …"
  const parse = /^(Parse|Lexical) error on line (\d+)[:.]\s*([\s\S]*)$/.exec(raw);
  if (parse) {
    const line = Number(parse[2]);
    const lines = parse[3].split('\n');
    const problem =
      parse[1] === 'Parse'
        ? wordParseError(lines[lines.length - 1])
        : 'text Handlebars cannot read inside `{{ }}` (an unclosed comment or string?)';
    return new TemplateContentError(problem, { ...location, line, column: lexerColumn(line) });
  }
  return new TemplateContentError(raw, location);
}

/** The failing token's column, read from the (shared, synchronous) Handlebars lexer when it is on `line`. */
function lexerColumn(line: number): number | undefined {
  const loc = (engine as unknown as { Parser?: { lexer?: { yylloc?: { first_line: number; first_column: number } } } })
    .Parser?.lexer?.yylloc;
  if (!loc || loc.first_line !== line || typeof loc.first_column !== 'number') return undefined;
  return loc.first_column + 1;
}

const BLOCK_ONLY = new Set(['if', 'unless', 'each', 'with']);
const ARITY: Record<string, [min: number, max: number]> = {
  if: [1, 1],
  unless: [1, 1],
  each: [1, 1],
  with: [1, 1],
  lookup: [2, 2],
  default: [1, Infinity],
};

/** Rejects what would fail at render time: unknown helpers, wrong arity, partials, decorators. */
function checkAst(ast: hbs.AST.Program, location: TemplateContentLocation): void {
  const fail = (node: hbs.AST.Node, problem: string): never => {
    throw new TemplateContentError(problem, {
      ...location,
      line: node.loc?.start.line,
      column: node.loc ? node.loc.start.column + 1 : undefined,
    });
  };
  const checkCall = (
    node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression,
    block: boolean,
  ): void => {
    const name = helperName(node);
    const hasArgs = node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
    if (name !== undefined) {
      if (BLOCK_ONLY.has(name) && !block) fail(node, `"${name}" is a block helper: use {{#${name} …}}…{{/${name}}}`);
      const arity = ARITY[name];
      if (arity && (node.params.length < arity[0] || node.params.length > arity[1])) {
        const count = arity[0] === arity[1] ? `exactly ${arity[0]}` : `at least ${arity[0]}`;
        fail(node, `"${name}" takes ${count} argument${arity[0] === 1 ? '' : 's'}, got ${node.params.length}`);
      }
    } else if (hasArgs) {
      const path = node.path as hbs.AST.PathExpression;
      fail(node, `unknown helper "${path.original}"; helpers are ${TEMPLATE_HELPERS.join(', ')}`);
    }
  };
  const visit = (node: hbs.AST.Node | undefined | null): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        return (node as hbs.AST.Program).body.forEach(visit);
      case 'MustacheStatement':
      case 'SubExpression': {
        const n = node as hbs.AST.MustacheStatement;
        checkCall(n, false);
        n.params.forEach(visit);
        n.hash?.pairs.forEach((p) => visit(p.value));
        return;
      }
      case 'BlockStatement': {
        const n = node as hbs.AST.BlockStatement;
        checkCall(n, true);
        n.params.forEach(visit);
        n.hash?.pairs.forEach((p) => visit(p.value));
        visit(n.program);
        visit(n.inverse);
        return;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
        return fail(node, 'partials ({{> name}}) are not supported');
      case 'Decorator':
      case 'DecoratorBlock':
        return fail(node, 'decorators and inline partials ({{* …}}) are not supported');
      default:
        return;
    }
  };
  visit(ast);
}

/** The helper a call names, when it names one of ours (a simple identifier such as `if` or `default`). */
export function helperName(node: { path: hbs.AST.Node }): string | undefined {
  const path = node.path as hbs.AST.PathExpression;
  if (path.type !== 'PathExpression' || path.data || path.depth !== 0 || path.parts.length !== 1) return undefined;
  if (/^(this\b|\.)/.test(path.original)) return undefined;
  return TEMPLATE_HELPERS.includes(path.parts[0]) ? path.parts[0] : undefined;
}

/** `undefined`, `null` or `""`: what `default` skips. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
