import { createHmac } from 'node:crypto';
import {
  CallbackRejectedError,
  type CallbackEvent,
  type CallbackOutcome,
  type CallbackRequest,
  type CallbackSupport,
} from '../../../domain/provider/provider-callback';
import { errorCodeText, idField, malformed, reasonText, requiredHeader, sameBytes } from '../callback-support';

export const TWILIO_SIGNATURE_HEADER = 'X-Twilio-Signature';

/**
 * Twilio error codes that mean the number will not take messages, whatever is retried: an `undelivered`
 * status with one of them is a hard bounce (`BOUNCED_HARD`), any other `undelivered` a soft one.
 * 30003 unreachable destination handset, 30005 unknown destination handset, 30006 landline or unreachable
 * carrier, 21610 the recipient replied STOP (unsubscribed), 21211 invalid 'To' number, 21614 'To' is not a
 * mobile number.
 */
export const TWILIO_PERMANENT_ERROR_CODES: readonly string[] = ['30003', '30005', '30006', '21610', '21211', '21614'];

/** The settings the callback side reads. */
interface TwilioCallbackSettings {
  authToken?: string;
}

/**
 * The form parameters of a request in the order Twilio signs them: sorted by name (code-unit order),
 * the values of a repeated name sorted too; each as name followed by value.
 */
function signedParams(form: URLSearchParams): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of form) byName.set(name, [...(byName.get(name) ?? []), value]);
  let out = '';
  for (const name of [...byName.keys()].sort()) for (const value of byName.get(name)!.sort()) out += name + value;
  return out;
}

const isForm = (request: CallbackRequest) =>
  (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';

/** The form fields of a request (repeated names keep their last value), as Twilio's item to store. */
function formOf(request: CallbackRequest): URLSearchParams {
  return new URLSearchParams(request.rawBody.toString('utf8'));
}

/** Twilio `MessageStatus` → Pigeon outcome; absent: not stored (sent, queued, sending, accepted, scheduled, …). */
function outcomeOf(status: string, errorCode: string | null): CallbackOutcome | null {
  switch (status) {
    case 'delivered':
      return 'DELIVERED';
    case 'read':
      return 'OPENED'; // WhatsApp: the recipient read it
    case 'undelivered':
      return errorCode && TWILIO_PERMANENT_ERROR_CODES.includes(errorCode) ? 'BOUNCED_HARD' : 'BOUNCED_SOFT';
    case 'failed':
      return 'FAILED';
    default:
      return null;
  }
}

/**
 * Twilio's message status callbacks (SMS and WhatsApp): `application/x-www-form-urlencoded` posts to the
 * `StatusCallback` URL (Pigeon passes the configuration's callback URL with every send), signed with
 * `X-Twilio-Signature` = base64(HMAC-SHA1(auth token, URL + the sorted form parameters)). The URL is the one
 * Pigeon knows itself by (`CallbackRequest.url`, from PIGEON_PUBLIC_URL), never the request's Host header.
 * Twilio sends no timestamp: there is no clock check (a replayed callback is a duplicate event id and stored
 * once). Events are matched to deliveries by `MessageSid`, the `sid` that `send` stored as the external id.
 */
export const twilioCallbacks: CallbackSupport<TwilioCallbackSettings> = {
  verify(request: CallbackRequest, settings: TwilioCallbackSettings): void {
    const token = typeof settings.authToken === 'string' ? settings.authToken : '';
    if (!token) {
      throw new CallbackRejectedError(
        'twilio: this configuration has no authToken to verify the X-Twilio-Signature with',
        'signature',
      );
    }
    const signature = requiredHeader(request, TWILIO_SIGNATURE_HEADER);
    const params = isForm(request) ? signedParams(formOf(request)) : '';
    const expected = createHmac('sha1', token)
      .update(request.url + params, 'utf8')
      .digest('base64');
    if (!sameBytes(expected, signature.trim())) {
      throw new CallbackRejectedError(
        `twilio: the ${TWILIO_SIGNATURE_HEADER} does not match this callback URL and its parameters with the ` +
          "configuration's authToken (is PIGEON_PUBLIC_URL the URL Twilio posts to?)",
        'signature',
      );
    }
  },

  parse(request: CallbackRequest): CallbackEvent[] {
    if (!isForm(request)) {
      throw malformed('twilio: a status callback is application/x-www-form-urlencoded');
    }
    const form = formOf(request);
    const raw = Object.create(null) as Record<string, unknown>; // a field named __proto__ stays a field
    for (const [name, value] of form) raw[name] = value;
    const sid = idField(form.get('MessageSid') ?? form.get('SmsSid'), 'twilio: MessageSid');
    const status = form.get('MessageStatus') ?? form.get('SmsStatus');
    if (!status) throw malformed('twilio: MessageStatus is missing');
    const errorCode = errorCodeText(form.get('ErrorCode'));
    const outcome = outcomeOf(status, errorCode);
    if (!outcome) return [];
    const eventId = idField(`${sid}:${status}`, 'twilio: MessageSid:MessageStatus');
    return [
      {
        eventId,
        externalId: sid,
        outcome,
        at: request.now,
        reason: reasonText(form.get('ErrorMessage'), errorCode ? `Twilio error ${errorCode}` : null),
        errorCode,
        raw,
      },
    ];
  },
};
