import {
  CallbackRejectedError,
  type CallbackEvent,
  type CallbackRequest,
  type CallbackSupport,
} from '../../../domain/provider/provider-callback';
import { checkSkew, eventTime, idField, malformed, reasonText, requiredHeader, sameBytes } from '../callback-support';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from './webhook.signature';

/** The settings the callback side reads. */
interface WebhookCallbackSettings {
  secret?: string;
}

/** An ISO-8601 date-time with a time zone (`2026-12-04T21:00:00Z`, `…+01:00`, fractions allowed). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The posted items: one object, or an array of them. */
function items(request: CallbackRequest): unknown[] | null {
  let body: unknown;
  try {
    body = JSON.parse(request.rawBody.toString('utf8'));
  } catch {
    return null;
  }
  return Array.isArray(body) ? body : [body];
}

const timeOf = (value: unknown): number =>
  typeof value === 'string' && ISO_TIME.test(value) ? Date.parse(value) : Number.NaN;

/**
 * Delivery reports from the receiver of the webhook provider: it posts
 * `{"eventId", "messageId", "status": "DELIVERED"|"FAILED", "reason"?, "timestamp"}` (or an array of them) to the
 * configuration's callback URL, signed like Pigeon's own posts: `X-Pigeon-Signature: sha256=<hex HMAC-SHA256 of
 * the raw body>` with the configuration's `secret`. `timestamp` (ISO-8601) must be within 5 minutes of Pigeon's
 * clock. `messageId` is the delivery's external id: the `id` the receiver answered the delivery with, or else the
 * delivery's `Idempotency-Key` header (the delivery id), which `send` stores when no `id` came back.
 */
export const webhookCallbacks: CallbackSupport<WebhookCallbackSettings> = {
  verify(request: CallbackRequest, settings: WebhookCallbackSettings): void {
    const secret = typeof settings.secret === 'string' ? settings.secret : '';
    if (!secret) {
      throw new CallbackRejectedError(
        'webhook: this configuration has no secret: set one (the receiver signs its callbacks with it); unsigned callbacks are refused',
        'signature',
      );
    }
    const signature = requiredHeader(request, WEBHOOK_SIGNATURE_HEADER);
    if (!sameBytes(signWebhookBody(secret, request.rawBody), signature.trim().toLowerCase())) {
      throw new CallbackRejectedError(
        `webhook: the ${WEBHOOK_SIGNATURE_HEADER} is not sha256=<hex HMAC-SHA256 of the raw body> with this configuration's secret`,
        'signature',
      );
    }
    // signed: now the clock (a body that cannot be read is left to parse, which says why)
    for (const item of items(request) ?? []) {
      if (isObject(item) && !Number.isNaN(timeOf(item.timestamp))) {
        checkSkew(timeOf(item.timestamp), request, 'webhook: the timestamp');
      }
    }
  },

  parse(request: CallbackRequest): CallbackEvent[] {
    const list = items(request);
    if (!list) throw malformed('webhook: the body is not JSON');
    if (list.length === 0) throw malformed('webhook: the body is an empty array');
    return list.map((item, i) => {
      const at = `webhook: item ${i}`;
      if (!isObject(item)) throw malformed(`${at} is not a JSON object`);
      const eventId = idField(item.eventId, `${at}: eventId`);
      const messageId = idField(item.messageId, `${at}: messageId`);
      if (item.status !== 'DELIVERED' && item.status !== 'FAILED') {
        throw malformed(`${at}: status must be "DELIVERED" or "FAILED"`);
      }
      if (item.reason !== undefined && item.reason !== null && typeof item.reason !== 'string') {
        throw malformed(`${at}: reason must be a string`);
      }
      const time = timeOf(item.timestamp);
      if (Number.isNaN(time)) throw malformed(`${at}: timestamp must be an ISO-8601 date-time with a zone`);
      return {
        eventId,
        externalId: messageId,
        outcome: item.status,
        at: eventTime(time, request),
        reason: reasonText(item.reason),
        errorCode: null,
        raw: item,
      };
    });
  },
};
