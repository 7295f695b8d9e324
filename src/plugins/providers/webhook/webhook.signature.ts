import { createHmac } from 'node:crypto';

/** The signature header; its value is `sha256=` and the hex HMAC-SHA256 of the raw body, keyed by the secret. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Pigeon-Signature';

/**
 * `sha256=<hex>`: the signature of `rawBody` with `secret`, as the receiver recomputes it (and as a receiver
 * signs its delivery callbacks to Pigeon).
 */
export function signWebhookBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
