import { randomBytes } from 'node:crypto';
import { describe, hasOwn, isJsonObject } from '../../lib/json';
import { channelDefinition, channelOfContentKey, contentKey, type Channel } from '../channel/channels';
import type { ChannelContent } from '../channel/channel-content';
import { validateChannelContent, jsonField } from './content-validation';
import { collectMissing } from './missing-variables';
import { compiled, compiledForJson, JSON_VALUE_HELPER, parseTemplate, syntaxError } from './template-engine';
import { TemplateContentError, type TemplateContentLocation } from './template.errors';

/**
 * Template content: validation when a template is saved ({@link validateContent}) and rendering for
 * previews and sends ({@link renderContent}). Strings are Handlebars templates over `{ data, profile, event }`
 * (README.md, "From event to notification: a walk-through", step 2); only `email.html` is HTML-escaped.
 *
 * The parts: `content-validation.ts` (each channel's fields, from the channel table),
 * `template-engine.ts` (Handlebars: helpers, parsing, checks, cache), `missing-variables.ts`
 * (which referenced variables were undefined) and this module, which renders and is what callers import.
 */

export { validateContent, validateTemplate } from './content-validation';
export { TEMPLATE_HELPERS } from './template-engine';
export { TemplateContentError, type TemplateContentLocation } from './template.errors';

/**
 * What templates render over: `data` (message data), `profile` (the profile's traits), `event` (the
 * inbound event) and, for a workflow's send after a digest step, `digest` (`{count, items, firstAt, lastAt}`).
 */
export interface TemplateScope {
  data?: unknown;
  profile?: unknown;
  event?: unknown;
  digest?: unknown;
  /** This recipient's signed unsubscribe link for the message's topic (with PIGEON_PUBLIC_URL; README, "Preferences and topics"). */
  unsubscribeUrl?: string;
  /** This recipient's signed preferences page link (with PIGEON_PUBLIC_URL). */
  preferencesUrl?: string;
}

export interface RenderResult {
  /** One entry per rendered channel, same shape as the content, every template replaced by its output. */
  rendered: ChannelContent;
  /** Distinct dotted paths the templates referenced that resolved to `undefined`, sorted (e.g. `data.orderId`). */
  missingVariables: string[];
}

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
    if (!channelOfContentKey(key) || !hasOwn(content, key)) continue;
    const value = content[key];
    validateChannelContent(channel, value);
    const specs = channelDefinition(channel).content;
    const fields = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of Object.keys(fields)) {
      const spec = specs[field];
      const text = fields[field];
      if (spec.type === 'json') {
        if (typeof text === 'string') out[field] = renderJsonText(text, { channel, field }, context, missing);
        else if (text !== undefined) out[field] = renderJson(text, channel, field, context, missing);
      } else if (typeof text === 'string') {
        out[field] = renderString(text, { channel, field }, spec.escapeHtml ?? false, context, missing);
      }
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
  return {
    data: scope.data,
    profile: scope.profile,
    event: scope.event,
    ...(scope.digest === undefined ? {} : { digest: scope.digest }),
    ...(scope.unsubscribeUrl === undefined ? {} : { unsubscribeUrl: scope.unsubscribeUrl }),
    ...(scope.preferencesUrl === undefined ? {} : { preferencesUrl: scope.preferencesUrl }),
  };
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
    text = compiled(parsed, escapeHtml)(context);
  } catch (err) {
    throw syntaxError(err, location);
  }
  collectMissing(parsed.ast, context, missing);
  return text;
}

/**
 * Renders a template whose output is JSON text (a webhook body written as a string), JSON-aware:
 * each value a `{{…}}` outputs is inserted by where it lands in the JSON text around it —
 * - inside a JSON string (`"id":"{{data.id}}"`): as its text, JSON-escaped, so `"` or `\` in a value
 *   can neither end the string nor add keys;
 * - elsewhere (`"n":{{data.n}}`): as one JSON value: numbers, booleans and `null` as they are (a string that
 *   reads as one of them, e.g. `"42"`, too), `undefined` as `null`, any other string quoted, objects and
 *   arrays as JSON.
 * A `{{{…}}}` triple-stash inserts its text as is. The result must be valid JSON, else a
 * {@link TemplateContentError} ("the rendered body is not valid JSON …"): the message fails for good.
 *
 * How: the outputs go through a helper that returns a marker (a per-render random token and an index); the
 * rendered text is then read once with a JSON string/escape state machine, replacing each marker by the
 * value's encoding for the state it is found in. The state comes from the rendered text, so blocks, `each`
 * and `else` branches are judged by what they produced, not by the template's layout.
 */
function renderJsonText(
  source: string,
  location: TemplateContentLocation,
  context: Record<string, unknown>,
  missing: Set<string>,
): string {
  const parsed = parseTemplate(source, location);
  const values: unknown[] = [];
  const token = `\uE000${randomBytes(9).toString('base64url')}:`;
  let marked: string;
  try {
    marked = compiledForJson(parsed)(context, {
      helpers: {
        [JSON_VALUE_HELPER]: (value: unknown) => `${token}${values.push(value) - 1}\uE001`,
      },
    });
  } catch (err) {
    throw syntaxError(err, location);
  }
  collectMissing(parsed.ast, context, missing);
  const text = insertJsonValues(marked, token, values);
  try {
    JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new TemplateContentError(
      `the rendered body is not valid JSON (${reason.length > 200 ? `${reason.slice(0, 200)}…` : reason}); write the body as a JSON object, or check the text around the values`,
      location,
    );
  }
  return text;
}

/** Replaces each marker by its value, encoded for the JSON state (inside a string or not) it is found in. */
function insertJsonValues(marked: string, token: string, values: unknown[]): string {
  let out = '';
  let inString = false;
  let escaped = false;
  let at = 0;
  for (;;) {
    const next = marked.indexOf(token, at);
    const literal = marked.slice(at, next < 0 ? marked.length : next);
    for (const c of literal) {
      if (!inString) inString = c === '"';
      else if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
    }
    out += literal;
    if (next < 0) return out;
    const end = marked.indexOf('\uE001', next);
    const value = values[Number(marked.slice(next + token.length, end))];
    out += inString ? JSON.stringify(textOf(value)).slice(1, -1) : jsonValue(value);
    escaped = false;
    at = end + 1;
  }
}

/** The text Handlebars would output for a value (`null`/`undefined` → empty). */
function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  const html = (value as { toHTML?: () => string }).toHTML;
  if (typeof html === 'function') return String(html.call(value));
  try {
    return String(value);
  } catch {
    return JSON.stringify(value) ?? ''; // an object without a prototype
  }
}

const JSON_SCALAR = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/;

/** One JSON value for a value output outside a JSON string. */
function jsonValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON_SCALAR.test(value.trim()) ? value.trim() : JSON.stringify(value);
  if (typeof value === 'object') {
    if (typeof (value as { toHTML?: unknown }).toHTML === 'function') return JSON.stringify(textOf(value));
    return JSON.stringify(value) ?? 'null';
  }
  return 'null';
}

/**
 * `json` fields (webhook bodies) given as JSON: every string leaf is a template rendered to text (placed as a JSON
 * string when sent, so it cannot change the structure); the JSON structure and other leaves are kept. A body given
 * as one string is JSON text: {@link renderJsonText}.
 */
function renderJson(
  value: unknown,
  channel: Channel,
  field: string,
  context: Record<string, unknown>,
  missing: Set<string>,
): unknown {
  if (typeof value === 'string') return renderString(value, { channel, field }, false, context, missing);
  if (Array.isArray(value)) return value.map((v, i) => renderJson(v, channel, `${field}[${i}]`, context, missing));
  if (isJsonObject(value)) {
    // fromEntries defines own properties, so a "__proto__" key stays data
    return Object.fromEntries(
      Object.keys(value).map((k) => [k, renderJson(value[k], channel, jsonField(field, k), context, missing)]),
    );
  }
  return value;
}
