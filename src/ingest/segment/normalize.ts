import { randomUUID } from 'node:crypto';
import { EventType } from '../../domain/event-log/event-type.enum';
import type { IncomingEvent } from '../../domain/event-log/incoming-event';
import { isJsonObject, type JsonObject } from '../../domain/profile/merge-patch';
import { isSegmentType, validateMessage, type SegmentType } from './segment.schemas';

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
const NULLABLE_KEYS = [
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
];

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
  const size = Buffer.byteLength(JSON.stringify(raw), 'utf8');
  if (size > MAX_EVENT_BYTES) {
    return new MessageRejection(413, 'PAYLOAD_TOO_LARGE', `message is ${size} bytes; one message may be at most 32 KB`);
  }
  const message: JsonObject = {};
  for (const key of Object.keys(raw)) {
    if (raw[key] === null && NULLABLE_KEYS.includes(key)) continue;
    Object.defineProperty(message, key, { value: raw[key], enumerable: true, writable: true, configurable: true });
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

  const problem = validateMessage(type, message);
  if (problem) return new MessageRejection(400, 'INVALID_EVENT', problem);

  if (message.messageId === undefined) message.messageId = randomUUID();
  const str = (v: unknown) => (v === undefined ? null : String(v));
  return {
    messageId: message.messageId as string,
    type: type.toUpperCase() as EventType,
    userId: str(message.userId),
    anonymousId: str(message.anonymousId),
    traits: message.traits as JsonObject | undefined,
    event: message.event as string | undefined,
    groupId: str(message.groupId) ?? undefined,
    previousId: str(message.previousId) ?? undefined,
    payload: message,
    timestamp: correctedTimestamp(message, receivedAt),
    receivedAt,
  };
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
