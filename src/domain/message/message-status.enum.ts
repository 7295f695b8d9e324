import { registerEnumType } from 'type-graphql';

/**
 * `ENQUEUED → ROUTED → SENT` (`DELIVERED` when the provider confirms), or one of the ends
 * `FILTERED` (a rule suppressed it), `UNROUTABLE` (no available channel), `UNDELIVERABLE` (with a reason).
 */
export enum MessageStatus {
  ENQUEUED = 'ENQUEUED',
  ROUTED = 'ROUTED',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  FILTERED = 'FILTERED',
  UNROUTABLE = 'UNROUTABLE',
  UNDELIVERABLE = 'UNDELIVERABLE',
}

registerEnumType(MessageStatus, { name: 'MessageStatus' });

export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set([
  MessageStatus.SENT,
  MessageStatus.DELIVERED,
  MessageStatus.FILTERED,
  MessageStatus.UNROUTABLE,
  MessageStatus.UNDELIVERABLE,
]);

/** Delivery of one message through one provider configuration. */
export enum DeliveryStatus {
  PENDING = 'PENDING',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  /** The provider reported a hard bounce (or a failure after accepting it): an end, like FAILED. */
  BOUNCED = 'BOUNCED',
  FAILED = 'FAILED',
}

registerEnumType(DeliveryStatus, { name: 'DeliveryStatus' });
