import { describe, hasOwn, isJsonObject } from '../../lib/json';
import {
  ALL_CHANNELS,
  channelDefinition,
  channelOfContentKey,
  CONTENT_KEYS,
  contentKey,
  type Channel,
} from '../channel/channels';
import type { ChannelContent } from '../channel/channel-content';
import { parseTemplate } from './template-engine';
import { TemplateContentError, type TemplateContentLocation } from './template.errors';

/**
 * Validation of template content when a template is saved (and of each channel's content before it
 * is rendered), by the content fields of the channel table (`src/domain/channel/channels.ts`).
 */

const MAX_JSON_DEPTH = 64;

/**
 * Throws a {@link TemplateContentError} for the first problem: content that is not an object, an unknown
 * channel key, a listed channel without content, a missing / empty / mistyped field, an unknown field,
 * a Handlebars syntax error (in words, with its line and column), an unknown helper, a partial or a decorator.
 * Content for a channel that is not listed is allowed and validated too.
 *
 * @example
 * validateContent([Channel.SMS], { sms: { body: 'Hi {{profile.firstName' } });
 * // TemplateContentError "sms.body: line 1, column 4: `{{` is never closed (expected `}}`)"
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
    if (!channelOfContentKey(key)) {
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
  for (const key of Object.keys(content)) validateChannelContent(channelOfContentKey(key)!, content[key]);
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

/** Checks one channel's content against its fields in the channel table. */
export function validateChannelContent(channel: Channel, value: unknown): void {
  const { contentKey: key, content: fields, oneOf } = channelDefinition(channel);
  const allowed = Object.keys(fields);
  if (!isJsonObject(value)) {
    throw new TemplateContentError(`must be an object with ${allowed.join(', ')}, got ${describe(value)}`, { channel });
  }
  for (const field of Object.keys(value)) {
    if (!allowed.includes(field)) {
      throw new TemplateContentError(`unknown field; ${key} has ${allowed.join(', ')}`, { channel, field });
    }
  }
  for (const [field, spec] of Object.entries(fields)) {
    const text = value[field];
    if (spec.type === 'json') {
      if (text !== undefined) validateJsonField(channel, field, text);
      else if (spec.required) throw new TemplateContentError('is required', { channel, field });
      continue;
    }
    if (text === undefined || text === null) {
      if (spec.required) throw new TemplateContentError('is required', { channel, field });
      continue;
    }
    if (typeof text !== 'string') {
      throw new TemplateContentError(`must be a string, got ${describe(text)}`, { channel, field });
    }
    if (spec.required && text.trim() === '') {
      throw new TemplateContentError('must not be empty', { channel, field });
    }
    parseTemplate(text, { channel, field });
  }
  if (oneOf && !oneOf.some((f) => typeof value[f] === 'string' && value[f].trim() !== '')) {
    throw new TemplateContentError(`needs ${oneOf.join(' or ')} (or both)`, { channel });
  }
}

/** A `json` field (the webhook body): a JSON object or array whose string leaves are templates, or a template. */
function validateJsonField(channel: Channel, field: string, body: unknown): void {
  // null is no document to post: given, it must be one
  if (body === null) throw new TemplateContentError('is required', { channel, field });
  if (typeof body === 'string') {
    if (body.trim() === '') throw new TemplateContentError('must not be empty', { channel, field });
  } else if (typeof body !== 'object') {
    throw new TemplateContentError(`must be a JSON object or array, or a template string, got ${describe(body)}`, {
      channel,
      field,
    });
  }
  forEachJsonString(channel, body, field, 0, (text, at) => parseTemplate(text, { channel, field: at }));
}

/** Visits every string leaf of a JSON value (strings are leaves; object keys are not templates). */
function forEachJsonString(
  channel: Channel,
  value: unknown,
  field: string,
  depth: number,
  visit: (text: string, field: string) => void,
): void {
  if (depth > MAX_JSON_DEPTH) {
    throw new TemplateContentError(`is nested deeper than ${MAX_JSON_DEPTH} levels`, { channel, field });
  }
  if (typeof value === 'string') return visit(value, field);
  if (Array.isArray(value)) {
    return value.forEach((v, i) => forEachJsonString(channel, v, `${field}[${i}]`, depth + 1, visit));
  }
  if (isJsonObject(value)) {
    for (const k of Object.keys(value)) forEachJsonString(channel, value[k], jsonField(field, k), depth + 1, visit);
  }
}

/** `body.name`, or `body["a b"]` for a key that is not an identifier. */
export function jsonField(base: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}
