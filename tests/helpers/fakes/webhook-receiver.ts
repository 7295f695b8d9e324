import { createHmac, randomUUID } from 'node:crypto';

/** One delivery report a webhook receiver posts back to Pigeon (README, "Delivery tracking"). */
export interface WebhookReport {
  eventId: string;
  /** The delivery's external id: the `id` the receiver answered the delivery with, else its `Idempotency-Key`. */
  messageId: string;
  status: 'DELIVERED' | 'FAILED';
  reason?: string;
  /** ISO-8601. */
  timestamp: string;
}

/**
 * The callback side of a receiver of the webhook provider: it reports what became of a delivery by posting
 * `{"eventId", "messageId", "status", "reason"?, "timestamp"}` to the configuration's callbackUrl, signed with
 * `X-Pigeon-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed by the configuration's `secret`.
 */
export class WebhookReceiverFake {
  constructor(readonly secret: string) {}

  /** A report with a fresh eventId and the current time; `fields` override. */
  report(messageId: string, status: WebhookReport['status'] = 'DELIVERED', fields: Partial<WebhookReport> = {}) {
    return { eventId: `evt-${randomUUID()}`, messageId, status, timestamp: new Date().toISOString(), ...fields };
  }

  /** The signed request for `reports` (one object, or an array; or exact body text), signed with `secret`. */
  signed(
    reports: WebhookReport | WebhookReport[] | string,
    secret = this.secret,
  ): { body: string; headers: Record<string, string> } {
    const body = typeof reports === 'string' ? reports : JSON.stringify(reports);
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'x-pigeon-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
    };
  }

  /** Posts `reports` signed to `url`. */
  async post(url: string, reports: WebhookReport | WebhookReport[]): Promise<Response> {
    const { body, headers } = this.signed(reports);
    return fetch(url, { method: 'POST', headers, body });
  }
}
