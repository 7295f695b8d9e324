import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import {
  CallbackRejectedError,
  type CallbackEvent,
  type CallbackOutcome,
  type CallbackRequest,
  type CallbackSupport,
} from '../../../domain/provider/provider-callback';
import {
  checkSkew,
  errorCodeText,
  eventTime,
  idField,
  malformed,
  reasonText,
  requiredHeader,
} from '../callback-support';

/** The headers of SendGrid's Signed Event Webhook. */
export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/** The settings the callback side reads. */
interface SendGridCallbackSettings {
  webhookVerificationKey?: string;
}

/** Parsed verification keys by their text (a configuration's key is parsed once). */
const keys = new Map<string, KeyObject | Error>();

/** The configured public key (base64 DER SubjectPublicKeyInfo of an ECDSA P-256 key, as SendGrid shows it). */
function verificationKey(text: string): KeyObject {
  let key = keys.get(text);
  if (!key) {
    try {
      const der = Buffer.from(text.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s/g, ''), 'base64');
      const parsed = createPublicKey({ key: der, format: 'der', type: 'spki' });
      key =
        parsed.asymmetricKeyType === 'ec' && parsed.asymmetricKeyDetails?.namedCurve === 'prime256v1'
          ? parsed
          : new Error('not an ECDSA P-256 key');
    } catch (err) {
      key = err instanceof Error ? err : new Error(String(err));
    }
    if (keys.size >= 1000) keys.clear();
    keys.set(text, key);
  }
  if (key instanceof Error) {
    throw new CallbackRejectedError(
      `sendgrid: webhookVerificationKey is not the verification key SendGrid shows (base64 DER of an ECDSA P-256 public key): ${key.message}`,
      'signature',
    );
  }
  return key;
}

/** SendGrid event → Pigeon outcome; absent: not stored (`processed`, and kinds Pigeon does not track). */
function outcomeOf(item: Record<string, unknown>): CallbackOutcome | null {
  switch (item.event) {
    case 'delivered':
      return 'DELIVERED';
    case 'bounce':
      // `type: "blocked"` is a temporary refusal by the receiving server; `bounce` (or none, in older events) is final
      return item.type === 'blocked' ? 'BOUNCED_SOFT' : 'BOUNCED_HARD';
    case 'deferred':
      return 'BOUNCED_SOFT';
    case 'dropped':
      return 'FAILED';
    case 'open':
      return 'OPENED';
    case 'click':
      return 'CLICKED';
    case 'spamreport':
      return 'SPAM_COMPLAINT';
    case 'unsubscribe':
    case 'group_unsubscribe':
      return 'UNSUBSCRIBED';
    default:
      return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * SendGrid's Event Webhook (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event): a JSON
 * array of events, signed (Signed Event Webhook) with ECDSA P-256 / SHA-256 over the timestamp header followed by
 * the raw body; the signature header is base64 DER. Events are matched to deliveries by `sg_message_id` up to its
 * first `.` — the `X-Message-Id` that Mail Send answered, which `send` stored as the external id.
 */
export const sendgridCallbacks: CallbackSupport<SendGridCallbackSettings> = {
  verify(request: CallbackRequest, settings: SendGridCallbackSettings): void {
    const keyText = typeof settings.webhookVerificationKey === 'string' ? settings.webhookVerificationKey.trim() : '';
    if (!keyText) {
      throw new CallbackRejectedError(
        'sendgrid: this configuration has no webhookVerificationKey: enable the Signed Event Webhook in SendGrid and ' +
          'paste its verification key into the setting (unsigned callbacks are refused)',
        'signature',
      );
    }
    const key = verificationKey(keyText);
    const signature = requiredHeader(request, SENDGRID_SIGNATURE_HEADER);
    const timestamp = requiredHeader(request, SENDGRID_TIMESTAMP_HEADER);
    let valid: boolean;
    try {
      valid = verify(
        'sha256',
        Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]),
        key,
        Buffer.from(signature, 'base64'),
      );
    } catch {
      valid = false; // not a DER signature at all
    }
    if (!valid) {
      throw new CallbackRejectedError(
        `sendgrid: the ${SENDGRID_SIGNATURE_HEADER} does not match the body and timestamp with this configuration's webhookVerificationKey`,
        'signature',
      );
    }
    checkSkew(/^\d{1,12}$/.test(timestamp) ? Number(timestamp) * 1000 : NaN, request, `sendgrid: the timestamp`);
  },

  parse(request: CallbackRequest): CallbackEvent[] {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      throw malformed('sendgrid: the body is not JSON (the Event Webhook posts a JSON array of events)');
    }
    if (!Array.isArray(body)) throw malformed('sendgrid: the body is not a JSON array of events');
    const events: CallbackEvent[] = [];
    body.forEach((item: unknown, i) => {
      if (!isObject(item)) throw malformed(`sendgrid: event ${i} is not an object`);
      if (typeof item.event !== 'string') throw malformed(`sendgrid: event ${i} has no "event"`);
      const outcome = outcomeOf(item);
      if (!outcome) return;
      const eventId = idField(item.sg_event_id, `sendgrid: event ${i}: sg_event_id`);
      const messageId = item.sg_message_id;
      let externalId: string | null = null;
      if (messageId !== undefined && messageId !== null) {
        externalId = idField(messageId, `sendgrid: event ${i}: sg_message_id`).split('.')[0] || null;
      }
      events.push({
        eventId,
        externalId,
        outcome,
        at: eventTime(typeof item.timestamp === 'number' ? item.timestamp * 1000 : NaN, request),
        reason: reasonText(item.reason, item.response),
        errorCode: errorCodeText(item.status),
        raw: item,
      });
    });
    return events;
  },
};
