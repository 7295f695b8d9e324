import Handlebars from 'handlebars';
import { InvalidInputError } from '../domain-error';
import { describe, hasOwn, isJsonObject } from '../../lib/json';
import { ChannelContent } from '../channel/channel-content';
import { ALL_CHANNELS, Channel, ChannelContentKey, contentKey } from '../channel/channel.enum';

/**
 * Template content: validation when a template is saved ({@link validateContent}) and rendering for
 * previews and sends ({@link renderContent}). Strings are Handlebars templates over
 * `{ data, profile, event }` (CONTRACT §3); only `email.html` is HTML-escaped.
 *
 * Helpers: the Handlebars built-ins `if`, `unless`, `each`, `with`, `lookup`, and `default`. Not `log`
 * (templates must not write profile data to the server's stdout). Partials and decorators are not
 * supported (a template is one self-contained string).
 */

/** What templates render over: `data` (message data), `profile` (the profile's traits), `event` (the inbound event). */
export interface TemplateScope {
  data?: unknown;
  profile?: unknown;
  event?: unknown;
}

export interface RenderResult {
  /** One entry per rendered channel, same shape as the content, every template replaced by its output. */
  rendered: ChannelContent;
  /** Distinct dotted paths the templates referenced that resolved to `undefined`, sorted (e.g. `data.orderId`). */
  missingVariables: string[];
}

/** Where a content problem is; `line` and `column` are 1-based and known for template errors. */
export interface TemplateContentLocation {
  channel?: Channel;
  /** The field inside the channel's content: `subject`, `html`, `body.items[0].name`. */
  field?: string;
  line?: number;
  column?: number;
}

/**
 * Invalid template content. The message starts with where the problem is:
 * `email.html: line 3: Parse error: Expecting 'ID', got 'EOF'`.
 */
export class TemplateContentError extends InvalidInputError {
  readonly channel?: Channel;
  readonly field?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(problem: string, location: TemplateContentLocation = {}, where = describeLocation(location)) {
    const at = location.line === undefined ? '' : `line ${location.line}: `;
    super(`${where}: ${at}${problem}`, stripUndefined({ ...location }));
    this.channel = location.channel;
    this.field = location.field;
    this.line = location.line;
    this.column = location.column;
  }
}

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

type FieldSpec = { required: string[]; optional: string[]; oneOf?: string[] };

/** The fields of each channel's content (CONTRACT §3 `TemplateInput.content`). */
const FIELDS: Record<ChannelContentKey, FieldSpec> = {
  email: { required: ['subject'], optional: ['html', 'text'], oneOf: ['html', 'text'] },
  sms: { required: ['body'], optional: [] },
  push: { required: ['title', 'body'], optional: [] },
  slack: { required: ['text'], optional: [] },
  msteams: { required: ['text'], optional: [] },
  whatsapp: { required: ['body'], optional: [] },
  // without a body the webhook provider posts its default document (CONTRACT §3.3)
  webhook: { required: [], optional: ['body'] },
};

const CONTENT_KEYS = Object.keys(FIELDS) as ChannelContentKey[];
const CHANNEL_BY_KEY = Object.fromEntries(ALL_CHANNELS.map((c) => [contentKey(c), c])) as Record<
  ChannelContentKey,
  Channel
>;
const MAX_JSON_DEPTH = 64;

// ---------------------------------------------------------------------------------------------------
// Validation

/**
 * Throws a {@link TemplateContentError} for the first problem: content that is not an object, an unknown
 * channel key, a listed channel without content, a missing / empty / mistyped field, an unknown field,
 * a Handlebars syntax error (with its line), an unknown helper, a partial or a decorator.
 * Content for a channel that is not listed is allowed and validated too.
 *
 * @example
 * validateContent([Channel.SMS], { sms: { body: 'Hi {{profile.firstName' } });
 * // TemplateContentError "sms.body: line 1: Parse error: Expecting 'ID', …, got 'EOF'"
 */
export function validateContent(channels: readonly Channel[], content: unknown): asserts content is ChannelContent {
  if (!isJsonObject(content)) {
    throw new TemplateContentError(
      `must be an object with one entry per channel (${CONTENT_KEYS.join(', ')}), got ${describe(content)}`,
      {},
      'content',
    );
  }
  for (const key of Object.keys(content)) {
    if (!isContentKey(key)) {
      throw new TemplateContentError(
        `unknown channel "${key}"; content keys are ${CONTENT_KEYS.join(', ')}`,
        {},
        `content.${key}`,
      );
    }
  }
  for (const channel of channels) {
    if (!ALL_CHANNELS.includes(channel)) {
      throw new TemplateContentError(`unknown channel ${describe(channel)}`, {}, 'channels');
    }
    if (!hasOwn(content, contentKey(channel))) {
      throw new TemplateContentError(`content is missing for channel ${channel}`, { channel });
    }
  }
  for (const key of Object.keys(content) as ChannelContentKey[]) validateChannelContent(key, content[key]);
}

/**
 * Checks one template string: syntax, helpers, no partials or decorators. Throws a {@link TemplateContentError}
 * located at `location` (plus the line and column of the problem).
 *
 * @example
 * validateTemplate('{{#if data.vip}}VIP{{/if}}'); // ok
 */
export function validateTemplate(source: string, location: TemplateContentLocation = {}): void {
  parseTemplate(source, location);
}

function validateChannelContent(key: ChannelContentKey, value: unknown): void {
  const channel = CHANNEL_BY_KEY[key];
  const spec = FIELDS[key];
  const allowed = [...spec.required, ...spec.optional];
  if (!isJsonObject(value)) {
    throw new TemplateContentError(`must be an object with ${allowed.join(', ')}, got ${describe(value)}`, { channel });
  }
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) {
      throw new TemplateContentError(`unknown field; ${key} has ${allowed.join(', ')}`, { channel, field });
    }
  }
  if (key === 'webhook') return value.body === undefined ? undefined : validateWebhookBody(value.body);

  for (const field of allowed) {
    const text = value[field];
    if (text === undefined || text === null) {
      if (spec.required.includes(field)) throw new TemplateContentError('is required', { channel, field });
      continue;
    }
    if (typeof text !== 'string') {
      throw new TemplateContentError(`must be a string, got ${describe(text)}`, { channel, field });
    }
    if (spec.required.includes(field) && text.trim() === '') {
      throw new TemplateContentError('must not be empty', { channel, field });
    }
    parseTemplate(text, { channel, field });
  }
  if (spec.oneOf && !spec.oneOf.some((f) => typeof value[f] === 'string' && value[f].trim() !== '')) {
    throw new TemplateContentError(`needs ${spec.oneOf.join(' or ')} (or both)`, { channel });
  }
}

function validateWebhookBody(body: unknown): void {
  const channel = Channel.WEBHOOK;
  if (body === undefined || body === null) throw new TemplateContentError('is required', { channel, field: 'body' });
  if (typeof body === 'string') {
    if (body.trim() === '') throw new TemplateContentError('must not be empty', { channel, field: 'body' });
  } else if (typeof body !== 'object') {
    throw new TemplateContentError(`must be a JSON object or array, or a template string, got ${describe(body)}`, {
      channel,
      field: 'body',
    });
  }
  forEachJsonString(body, 'body', 0, (text, field) => parseTemplate(text, { channel, field }));
}

/** Visits every string leaf of a JSON value (strings are leaves; object keys are not templates). */
function forEachJsonString(
  value: unknown,
  field: string,
  depth: number,
  visit: (text: string, field: string) => void,
): void {
  if (depth > MAX_JSON_DEPTH) {
    throw new TemplateContentError(`is nested deeper than ${MAX_JSON_DEPTH} levels`, {
      channel: Channel.WEBHOOK,
      field,
    });
  }
  if (typeof value === 'string') return visit(value, field);
  if (Array.isArray(value)) return value.forEach((v, i) => forEachJsonString(v, `${field}[${i}]`, depth + 1, visit));
  if (isJsonObject(value)) {
    for (const k of Object.keys(value)) forEachJsonString(value[k], jsonField(field, k), depth + 1, visit);
  }
}

// ---------------------------------------------------------------------------------------------------
// Parsing and compiling (cached by source)

interface ParsedTemplate {
  ast: hbs.AST.Program;
  escaped?: HandlebarsTemplateDelegate;
  raw?: HandlebarsTemplateDelegate;
}

const CACHE_LIMIT = 500;
const cache = new Map<string, ParsedTemplate>();

/** Parses and checks a template; throws a located {@link TemplateContentError}. */
function parseTemplate(source: string, location: TemplateContentLocation): ParsedTemplate {
  const hit = cache.get(source);
  if (hit) return hit;
  let ast: hbs.AST.Program;
  try {
    ast = engine.parse(source);
  } catch (err) {
    throw syntaxError(err, location);
  }
  checkAst(ast, location);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  const parsed: ParsedTemplate = { ast };
  cache.set(source, parsed);
  return parsed;
}

function compiled(source: string, parsed: ParsedTemplate, escapeHtml: boolean): HandlebarsTemplateDelegate {
  if (escapeHtml) return (parsed.escaped ??= engine.compile(source, { noEscape: false, strict: false }));
  return (parsed.raw ??= engine.compile(source, { noEscape: true, strict: false }));
}

/** Turns a Handlebars parser / compiler error into a located one. */
function syntaxError(err: unknown, location: TemplateContentLocation): TemplateContentError {
  const raw = err instanceof Error ? err.message : String(err);
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
    const detail = parse[1] === 'Parse' ? lines[lines.length - 1] : lines[0];
    return new TemplateContentError(`${parse[1]} error: ${detail}`, {
      ...location,
      line,
      column: lexerColumn(line),
    });
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
function helperName(node: { path: hbs.AST.Node }): string | undefined {
  const path = node.path as hbs.AST.PathExpression;
  if (path.type !== 'PathExpression' || path.data || path.depth !== 0 || path.parts.length !== 1) return undefined;
  if (/^(this\b|\.)/.test(path.original)) return undefined;
  return TEMPLATE_HELPERS.includes(path.parts[0]) ? path.parts[0] : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Rendering

/**
 * Renders the content of each listed channel over `scope`. Listed channels without content are skipped
 * (the send pipeline treats them as unavailable); content of unlisted channels is not rendered.
 * Missing variables render as empty strings and are reported in `missingVariables`; never throws for them.
 * Throws a {@link TemplateContentError} when the rendered content itself is invalid.
 *
 * @example
 * renderContent([Channel.SMS], { sms: { body: 'Order {{data.orderId}} for {{profile.firstName}}' } },
 *   { data: { orderId: 'A1' }, profile: {} });
 * // { rendered: { sms: { body: 'Order A1 for ' } }, missingVariables: ['profile.firstName'] }
 */
export function renderContent(channels: readonly Channel[], content: unknown, scope: TemplateScope): RenderResult {
  if (!isJsonObject(content)) {
    throw new TemplateContentError(`must be an object, got ${describe(content)}`, {}, 'content');
  }
  const context = templateContext(scope);
  const missing = new Set<string>();
  const rendered: Record<string, unknown> = {};
  for (const channel of channels) {
    const key = contentKey(channel);
    if (!isContentKey(key) || !hasOwn(content, key)) continue;
    const value = content[key];
    validateChannelContent(key, value);
    const fields = value as Record<string, unknown>;
    if (key === 'webhook') {
      rendered.webhook = fields.body === undefined ? {} : { body: renderJson(fields.body, 'body', context, missing) };
      continue;
    }
    const out: Record<string, string> = {};
    for (const field of Object.keys(fields)) {
      const text = fields[field];
      if (typeof text !== 'string') continue;
      out[field] = renderString(text, { channel, field }, key === 'email' && field === 'html', context, missing);
    }
    rendered[key] = out;
  }
  return { rendered: rendered as ChannelContent, missingVariables: [...missing].sort() };
}

/**
 * Renders one template string (no HTML escaping unless `escapeHtml`).
 *
 * @example
 * renderTemplate('Hi {{default profile.firstName "there"}}', { profile: {} }).text; // "Hi there"
 */
export function renderTemplate(
  source: string,
  scope: TemplateScope,
  options: { escapeHtml?: boolean } = {},
): { text: string; missingVariables: string[] } {
  const missing = new Set<string>();
  const text = renderString(source, {}, options.escapeHtml ?? false, templateContext(scope), missing);
  return { text, missingVariables: [...missing].sort() };
}

function templateContext(scope: TemplateScope): Record<string, unknown> {
  return { data: scope.data, profile: scope.profile, event: scope.event };
}

function renderString(
  source: string,
  location: TemplateContentLocation,
  escapeHtml: boolean,
  context: Record<string, unknown>,
  missing: Set<string>,
): string {
  const parsed = parseTemplate(source, location);
  let text: string;
  try {
    text = compiled(source, parsed, escapeHtml)(context);
  } catch (err) {
    throw syntaxError(err, location);
  }
  collectMissing(parsed.ast, context, missing);
  return text;
}

/** Webhook bodies: every string leaf is a template; the JSON structure (and non-string leaves) are kept. */
function renderJson(value: unknown, field: string, context: Record<string, unknown>, missing: Set<string>): unknown {
  if (typeof value === 'string')
    return renderString(value, { channel: Channel.WEBHOOK, field }, false, context, missing);
  if (Array.isArray(value)) return value.map((v, i) => renderJson(v, `${field}[${i}]`, context, missing));
  if (isJsonObject(value)) {
    // fromEntries defines own properties, so a "__proto__" key stays data
    return Object.fromEntries(
      Object.keys(value).map((k) => [k, renderJson(value[k], jsonField(field, k), context, missing)]),
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Missing variables
//
// A walk over the AST that follows the render: `if`/`unless` take the branch the data selects, `each`
// visits every item with the item as context (and `as |item index|` block params), `with` and mustache
// sections (`{{#data.x}}…{{/data.x}}`) switch the context, `../` climbs contexts, `@root` is the scope.
// Inside blocks, names are reported from the scope: `{{#each data.items}}{{sku}}{{/each}}` → `data.items[].sku`,
// `{{#with profile.address}}{{city}}{{/with}}` → `profile.address.city`.
// Not reported, by design: conditions of `if`/`unless`/sections (they test for presence), the target of
// an `each`/`with` that has an `{{else}}`, `@index`/`@key`/… data variables, and the arguments of
// `default` unless every one of them is missing. Approximated: results of helpers other than `default`
// and `lookup` are unknown (treated as undefined, not reported).

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

function collectMissing(ast: hbs.AST.Program, context: Record<string, unknown>, missing: Set<string>): void {
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

// ---------------------------------------------------------------------------------------------------
// Helpers

/** Handlebars' `isEmpty`: falsy except 0, or an empty array. */
function isEmpty(value: unknown): boolean {
  return (!value && value !== 0) || (Array.isArray(value) && value.length === 0);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function isContentKey(key: string): key is ChannelContentKey {
  return (CONTENT_KEYS as string[]).includes(key);
}



function jsonField(base: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function describeLocation(location: TemplateContentLocation): string {
  if (!location.channel) return location.field ?? 'template';
  const key = contentKey(location.channel);
  return location.field ? `${key}.${location.field}` : key;
}


function stripUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}
