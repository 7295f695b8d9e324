import { Channel } from '../../../domain/channel/channel.enum';
import type { WebhookContent } from '../../../domain/channel/channel-content';
import { DEFAULT_TIMEOUT_MS, postJson, type ProviderResponse } from '../http';
import type {
  ProviderDefinition,
  SendContext,
  SendResult,
  SettingsInputOf,
  SettingsSchema,
} from '../../../domain/provider/provider-plugin';
import { webhookCallbacks } from './webhook.callbacks';
import { signWebhookBody, WEBHOOK_SIGNATURE_HEADER } from './webhook.signature';

export { signWebhookBody, WEBHOOK_SIGNATURE_HEADER };

const settingsSchema = {
  type: 'object',
  properties: {
    url: {
      type: 'string',
      destination: true,
      description: 'The http(s) URL every delivery is POSTed to',
      format: 'http-url',
      minLength: 1,
    },
    secret: {
      type: 'string',
      description: 'Signing secret: when set, requests carry X-Pigeon-Signature: sha256=<hex HMAC-SHA256 of the body>',
      secret: true,
    },
    headers: {
      type: 'object',
      description:
        'Extra request headers as name → value strings (Content-Type, Idempotency-Key and the signature are set by Pigeon); stored encrypted, as they often carry credentials',
      secret: true,
      propertyNames: { format: 'header-name' },
      additionalProperties: { type: 'string', format: 'single-line', description: 'A header value (one line)' },
    },
    timeoutMs: {
      type: 'integer',
      description: `How long one request may take, in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
      minimum: 1,
      default: DEFAULT_TIMEOUT_MS,
    },
  },
  required: ['url'],
  additionalProperties: false,
} as const satisfies SettingsSchema;

/** Settings of a webhook provider configuration, as written (from the schema above). */
export type WebhookSettings = SettingsInputOf<typeof settingsSchema>;

/** Headers Pigeon sets itself; `settings.headers` cannot override them. */
/** The header naming the message a delivery belongs to (whatever the body), for the receiver's delivery reports. */
export const WEBHOOK_MESSAGE_HEADER = 'X-Pigeon-Message-Id';

const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'idempotency-key',
  'x-pigeon-signature',
  'x-pigeon-message-id',
  'host',
]);

/**
 * The exact JSON text to POST: the rendered `webhook.body` when the template has
 * one (a string is sent as is when it is JSON text, else as a JSON string), otherwise
 * `{ event, userId, data, messageId }`.
 */
export function webhookBody(ctx: Pick<SendContext, 'content' | 'message' | 'profile'>): string {
  const rendered = (ctx.content as WebhookContent | undefined)?.body;
  if (rendered !== undefined && rendered !== null) {
    if (typeof rendered === 'string') {
      try {
        JSON.parse(rendered);
        return rendered;
      } catch {
        return JSON.stringify(rendered);
      }
    }
    return JSON.stringify(rendered);
  }
  return JSON.stringify({
    event: ctx.message.eventName,
    userId: ctx.profile.userId,
    data: ctx.message.data,
    messageId: ctx.message.id,
  });
}

/** The `id` of a JSON object response (string or number), else null. */
async function responseId(response: ProviderResponse): Promise<string | null> {
  const text = await response.text().catch(() => '');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const id = (parsed as { id?: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') return String(id);
    }
  } catch {
    // not JSON: no id
  }
  return null;
}

/**
 * POSTs each delivery as JSON to a fixed URL, with `Idempotency-Key`, `X-Pigeon-Message-Id` and, when a
 * secret is set, `X-Pigeon-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. The externalId is
 * the `id` field of a JSON response, else the delivery id (the `Idempotency-Key` header). A receiver's delivery
 * callback (`webhook.callbacks.ts`) names either of them or the message id as its `messageId`.
 *
 * @example
 * ```ts
 * { url: 'https://hooks.example.com/pigeon', secret: 'whsec_…', headers: { 'X-Team': 'growth' } }
 * ```
 */
export const webhookProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'webhook',
  title: 'Webhook',
  channels: [Channel.WEBHOOK],
  settings: settingsSchema,
  async send(ctx): Promise<SendResult> {
    const { settings } = ctx;
    const body = webhookBody(ctx);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings.headers ?? {})) {
      if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
    }
    headers['idempotency-key'] = ctx.idempotencyKey;
    headers[WEBHOOK_MESSAGE_HEADER.toLowerCase()] = ctx.message.id;
    if (settings.secret) headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] = signWebhookBody(settings.secret, body);
    const response = await postJson('webhook', settings.url, body, {
      headers,
      timeoutMs: settings.timeoutMs,
      signal: ctx.signal,
    });
    return { externalId: (await responseId(response)) ?? ctx.idempotencyKey };
  },
  callbacks: webhookCallbacks,
};
