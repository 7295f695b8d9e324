import { describe, hasOwn, isJsonObject } from '../../lib/json';
import { channelDefinition, channelOfContentKey, contentKey, type Channel } from '../channel/channels';
import type { ChannelContent } from '../channel/channel-content';
import { validateChannelContent, jsonField } from './content-validation';
import { collectMissing } from './missing-variables';
import { compiled, parseTemplate, syntaxError } from './template-engine';
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
        if (text !== undefined) out[field] = renderJson(text, channel, field, context, missing);
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

/** `json` fields (webhook bodies): every string leaf is a template; the JSON structure and other leaves are kept. */
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
