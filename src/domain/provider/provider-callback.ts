import { Channel } from '../channel/channel.enum';

/**
 * What a provider reported about one delivery, in Pigeon's terms. Statuses only move forward
 * (README, "Delivery tracking"): `DELIVERED`, or one of the ends `BOUNCED_HARD` / `FAILED`;
 * `BOUNCED_SOFT` (a deferral or a block) may be followed by anything; `OPENED` / `CLICKED` are times,
 * not statuses; `SPAM_COMPLAINT` and `UNSUBSCRIBED` are the recipient's acts.
 */
export type CallbackOutcome =
  'DELIVERED' | 'OPENED' | 'CLICKED' | 'BOUNCED_HARD' | 'BOUNCED_SOFT' | 'FAILED' | 'SPAM_COMPLAINT' | 'UNSUBSCRIBED';

/** One event of a provider callback, parsed from the verified raw body. */
export interface CallbackEvent {
  /**
   * The provider's id of this event, the de-duplication key (providers retry): SendGrid's `sg_event_id`,
   * Twilio's `MessageSid` + `:` + `MessageStatus` (Twilio has no event id), the webhook receiver's `eventId`.
   */
  eventId: string;
  /**
   * The provider's id of what was sent, as Pigeon stored it in `deliveries.external_id` when the provider
   * accepted it (SendGrid: the `sg_message_id` before its first `.`; Twilio: `MessageSid`; webhook: the
   * `messageId` of the post, which is the delivery id). Null when the event names none.
   */
  externalId: string | null;
  outcome: CallbackOutcome;
  /** When the provider says it happened (its timestamp), else when it was received. */
  at: Date;
  /** The provider's words (bounce reason, Twilio error message), at most 1,000 characters. */
  reason: string | null;
  /** The provider's error code when it gives one (Twilio `ErrorCode`, e.g. `21610` = the recipient replied STOP). */
  errorCode: string | null;
  /** The provider's own item as it sent it (a JSON event, or Twilio's form fields): stored as `provider_callbacks.raw`. */
  raw?: Record<string, unknown>;
}

/** A callback request as it arrived: the exact raw bytes, before any parsing. */
export interface CallbackRequest {
  rawBody: Buffer;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  /**
   * The public URL this callback was configured at (`PIGEON_PUBLIC_URL` + `/hooks/<id>`, plus the request's
   * query string), never one built from the request's Host header: Twilio signs this URL.
   */
  url: string;
  /** The time the request arrived (timestamps more than 5 minutes off are refused). */
  now: Date;
}

/** Thrown by `verify` (→ 401, nothing stored) or `parse` (→ 400, nothing stored), with a message for the caller. */
export class CallbackRejectedError extends Error {
  constructor(
    message: string,
    readonly reason: 'signature' | 'timestamp' | 'malformed',
  ) {
    super(message);
    this.name = 'CallbackRejectedError';
  }
}

/** The largest clock difference a signed callback timestamp may have. */
export const CALLBACK_MAX_SKEW_MS = 5 * 60_000;

/**
 * The callback side of a provider plugin (optional): how to verify a callback over its raw bytes and
 * what it says. A configuration of a plugin that has it shows a `callbackUrl`; see
 * `src/plugins/providers/README.md`, "Delivery callbacks".
 */
export interface CallbackSupport<S> {
  /**
   * Throws {@link CallbackRejectedError} unless the request is signed by the provider this configuration
   * names (compare signatures in constant time; refuse timestamps more than {@link CALLBACK_MAX_SKEW_MS} off).
   */
  verify(request: CallbackRequest, settings: S): void;
  /** The events of a verified request; throws {@link CallbackRejectedError} (`malformed`) when it cannot be read. */
  parse(request: CallbackRequest, settings: S): CallbackEvent[];
}

/** The channels whose addresses are compared lower-cased (e-mail); others are compared as given (E.164). */
export function normalizeAddress(channel: Channel, address: string): string {
  return channel === Channel.EMAIL ? address.trim().toLowerCase() : address.trim();
}
