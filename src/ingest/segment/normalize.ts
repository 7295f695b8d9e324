import { randomUUID } from 'node:crypto';
import { EventType } from '../../domain/event-log/event-type.enum';
import type { IncomingEvent } from '../../domain/event-log/incoming-event';
import { jsonDeeperThan, LONE_SURROGATE, MAX_JSON_DEPTH, wellFormedJson } from '../../domain/json-input';
import { isJsonObject, type JsonObject } from '../../lib/json';
import { isSegmentType, SEGMENT_TYPES, validateMessage, type SegmentType } from './segment.schemas';

/** Segment's limit on one message, in bytes of JSON. */
export const MAX_EVENT_BYTES = 32 * 1024;
/** Segment's limit on one request body. */
export const MAX_REQUEST_BYTES = 500 * 1024;
/** Segment's limit on the items of one batch. */
export const MAX_BATCH_ITEMS = 2500;

/** Why one message was refused; `status` is what a single-message route answers. */
export class MessageRejection {
  constructor(
    readonly status: 400 | 413 | 501,
    readonly code: string,
    readonly message: string,
  ) {}
}

/** Keys where Segment libraries send `null` to mean "not set" (analytics.js: `userId: null`). */
const NULLABLE_KEYS = new Set([
  'userId',
  'anonymousId',
  'messageId',
  'timestamp',
  'originalTimestamp',
  'sentAt',
  'receivedAt',
  'context',
  'integrations',
  'traits',
  'properties',
  'name',
]);

export interface BatchDefaults {
  context?: JsonObject;
  integrations?: JsonObject;
  sentAt?: string;
}

/**
 * Turns one raw Segment message into a domain event, or says why not.
 * `forcedType` is the type a `/v1/<type>` route decides; otherwise the message's `type` decides.
 */
export function normalizeMessage(
  raw: unknown,
  receivedAt: Date,
  options: { forcedType?: SegmentType; defaults?: BatchDefaults } = {},
): IncomingEvent | MessageRejection {
  if (!isJsonObject(raw)) return new MessageRejection(400, 'INVALID_EVENT', 'a message must be a JSON object');
  // measured before anything walks or serialises it: a message nested thousands deep would overflow them
  if (jsonDeeperThan(raw, MAX_JSON_DEPTH)) return tooDeep();
  const message: JsonObject = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value === null && NULLABLE_KEYS.has(key)) continue;
    // a "__proto__" key is data here: assigning it would set the copy's prototype instead
    if (key === '__proto__') {
      Object.defineProperty(message, key, { value, enumerable: true, writable: true, configurable: true });
    } else message[key] = value;
  }
  const type = options.forcedType ?? message.type;
  if (type === undefined) return new MessageRejection(400, 'INVALID_EVENT', 'type is required');
  if (!isSegmentType(type)) {
    return new MessageRejection(501, 'UNSUPPORTED_EVENT_TYPE', `Event Type Unsupported: ${String(type).slice(0, 100)}`);
  }
  message.type = type;
  const defaults = options.defaults ?? {};
  if (defaults.context && !(message.context !== undefined && !isJsonObject(message.context))) {
    message.context = { ...defaults.context, ...((message.context as JsonObject) ?? {}) };
  }
  if (defaults.integrations && !(message.integrations !== undefined && !isJsonObject(message.integrations))) {
    message.integrations = { ...defaults.integrations, ...((message.integrations as JsonObject) ?? {}) };
  }
  if (defaults.sentAt !== undefined && message.sentAt === undefined) message.sentAt = defaults.sentAt;
  // what is stored is the message with the batch's context merged in: the limits hold for that too
  if ((defaults.context || defaults.integrations) && jsonDeeperThan(message, MAX_JSON_DEPTH)) return tooDeep();

  // MySQL/MariaDB compare ids ignoring trailing spaces (PAD SPACE collations): "a " is "a" there, so it is
  // everywhere — else a repeated messageId with a trailing space would fail the unique key for good
  const identifiers = IDENTIFIERS_OF[type];
  for (const key of identifiers) {
    const value = message[key];
    if (typeof value === 'string' && value.endsWith(' ')) message[key] = value.replace(/ +$/, '');
  }

  const problem = validateMessage(type, message);
  if (problem) return new MessageRejection(400, 'INVALID_EVENT', problem);
  // a lone surrogate is not Unicode: stored as U+FFFD, two different ids would become one
  const notUnicode = identifiers.find((k) => typeof message[k] === 'string' && LONE_SURROGATE.test(message[k]));
  if (notUnicode) {
    return new MessageRejection(
      400,
      'INVALID_EVENT',
      `${notUnicode} must be valid Unicode (it holds a lone surrogate)`,
    );
  }

  const timestamp = correctedTimestamp(message, receivedAt);
  if (!(timestamp.getUTCFullYear() >= 1000 && timestamp.getUTCFullYear() <= 9999)) {
    return new MessageRejection(
      400,
      'INVALID_EVENT',
      'timestamp must fall between the years 1000 and 9999 (after the sentAt clock-skew correction)',
    );
  }

  if (message.messageId === undefined) message.messageId = randomUUID();
  // serialised once, here: the size limit is measured on what is stored, and the log stores this text
  let stored = message;
  let json = JSON.stringify(message);
  // lone surrogates elsewhere (a string cut in the middle of an emoji) become U+FFFD rather than lose the
  // event; JSON.stringify writes them as \udXXX escapes, so text without one has none (the walk is rare)
  if (json.includes('\\u') && ESCAPED_SURROGATE.test(json)) {
    stored = wellFormedJson(message);
    json = JSON.stringify(stored);
  }
  const size = json.length <= MAX_EVENT_BYTES / 3 ? json.length : Buffer.byteLength(json, 'utf8');
  if (size > MAX_EVENT_BYTES) {
    return new MessageRejection(413, 'PAYLOAD_TOO_LARGE', `message is ${size} bytes; one message may be at most 32 KB`);
  }
  // ids are strings or numbers (validated where the type needs them); any other value is not an id
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
  return {
    messageId: message.messageId as string,
    type: type.toUpperCase() as EventType,
    userId: str(message.userId),
    anonymousId: str(message.anonymousId),
    traits: stored.traits as JsonObject | undefined,
    event: message.event as string | undefined,
    groupId: str(message.groupId) ?? undefined,
    previousId: str(message.previousId) ?? undefined,
    payload: stored,
    payloadJson: json,
    timestamp,
    receivedAt,
  };
}

/** The fields stored as identifiers (columns), which must be well-formed Unicode. */
const IDENTIFIERS = ['userId', 'anonymousId', 'messageId'];
const TYPE_IDENTIFIERS: Partial<Record<SegmentType, string[]>> = {
  track: ['event'],
  group: ['groupId'],
  alias: ['previousId'],
};
/** {@link IDENTIFIERS} and the type's own, per type (built once: this runs for every event). */
const IDENTIFIERS_OF = Object.fromEntries(
  SEGMENT_TYPES.map((t) => [t, [...IDENTIFIERS, ...(TYPE_IDENTIFIERS[t] ?? [])]]),
) as unknown as Record<SegmentType, readonly string[]>;

/** A `\\udXXX` escape of a surrogate in JSON text (JSON.stringify escapes only lone ones). */
const ESCAPED_SURROGATE = /\\ud[89a-f]/i;

function tooDeep(): MessageRejection {
  return new MessageRejection(
    400,
    'INVALID_EVENT',
    `a message may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep`,
  );
}

/**
 * Segment's clock-skew correction: with `sentAt`, `timestamp = receivedAt − (sentAt − originalTimestamp)`
 * (the original being `originalTimestamp`, else `timestamp`); without `timestamp`, the receive time.
 */
export function correctedTimestamp(message: JsonObject, receivedAt: Date): Date {
  const original = (message.originalTimestamp ?? message.timestamp) as string | undefined;
  if (original === undefined) return receivedAt;
  const originalMs = Date.parse(original);
  if (message.sentAt !== undefined) {
    const sentMs = Date.parse(message.sentAt as string);
    return new Date(receivedAt.getTime() - (sentMs - originalMs));
  }
  return new Date(Date.parse((message.timestamp as string | undefined) ?? original));
}
