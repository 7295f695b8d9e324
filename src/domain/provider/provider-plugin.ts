import type { Channel } from '../channel/channel.enum';
import type {
  EmailContent,
  MsTeamsContent,
  PushContent,
  SlackContent,
  SmsContent,
  WebhookContent,
  WhatsAppContent,
} from '../channel/channel-content';

/**
 * A JSON Schema (draft-07 subset) describing a provider's settings. Every property, nested ones
 * included, carries a `description`; properties that hold secrets (passwords, tokens, API keys,
 * signing secrets, service-account keys) carry `secret: true`: they are encrypted at rest and
 * shown as `"********"` by the API.
 */
export interface SettingsSchema {
  type: 'object';
  properties: Record<string, SettingsProperty>;
  required?: string[];
  additionalProperties?: boolean;
}

export type SettingsType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface SettingsProperty {
  /** One JSON type, or several (e.g. `['object', 'string']` for a JSON document that may come as text). */
  type: SettingsType | SettingsType[];
  description: string;
  secret?: boolean;
  format?: string;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, SettingsProperty>;
  required?: string[];
  items?: SettingsProperty;
}

/** The rendered content for one channel, as the provider receives it. */
export interface RenderedContentByChannel {
  EMAIL: EmailContent;
  SMS: SmsContent;
  PUSH: PushContent;
  SLACK: SlackContent;
  MSTEAMS: MsTeamsContent;
  WHATSAPP: WhatsAppContent;
  WEBHOOK: WebhookContent;
}

export type RenderedContent = RenderedContentByChannel[Channel];

/** Everything a provider needs to send one delivery. */
export interface SendContext<S = Record<string, unknown>> {
  /** The channel being delivered on (one of the provider's `channels`). */
  channel: Channel;
  /** The provider configuration's settings, secrets decrypted. */
  settings: S;
  /**
   * The profile's address for the channel, as found by the pipeline (CONTRACT §3.2 step 5), e.g.
   * the `email` trait for EMAIL, `phone_number`/`phone`/`sms` for SMS, the `slack` object or
   * `tokens.slackToken` for SLACK. `undefined` for WEBHOOK, whose address is the provider's URL.
   */
  address: unknown;
  /** The rendered content for `channel`. */
  content: RenderedContent;
  profile: { userId: string; traits: Record<string, unknown> };
  message: {
    /** Pigeon's message id. */
    id: string;
    /** The inbound event name (`Segment-TrackEvent:…`), null for a direct send. */
    eventName: string | null;
    data: Record<string, unknown>;
  };
  /**
   * Stable for every attempt of this delivery: pass it to providers that de-duplicate
   * (an `Idempotency-Key` header or similar), so a retried send is not a second message.
   */
  idempotencyKey: string;
  /** Aborted when the attempt times out or the worker shuts down; pass it to `fetch`. */
  signal: AbortSignal;
}

export interface SendResult {
  /** The provider's id for what it sent (message SID, X-Message-Id, ts, …). */
  externalId?: string | null;
  /** True only when the provider confirmed delivery (then the message is `DELIVERED`, not `SENT`). */
  delivered?: boolean;
}

/**
 * A channel provider plugin: a declarative definition, registered explicitly in `./index.ts`.
 *
 * `send` must either resolve (accepted by the provider) or throw a {@link ProviderError}:
 * {@link RetryableProviderError} for timeouts, connection failures, 408, 429 and 5xx, and
 * {@link PermanentProviderError} for everything else (other 4xx, invalid settings or address).
 * It never throws a bare `Error`.
 *
 * @example
 * ```ts
 * export const echoProvider: ProviderDefinition<{ baseUrl: string }> = {
 *   slug: 'echo',
 *   title: 'Echo (example)',
 *   channels: [Channel.WEBHOOK],
 *   settings: {
 *     type: 'object',
 *     properties: { baseUrl: { type: 'string', description: 'Where to POST', format: 'uri' } },
 *     required: ['baseUrl'],
 *   },
 *   async send(ctx) {
 *     const res = await postJson('echo', `${ctx.settings.baseUrl}/echo`, { text: ctx.message.id }, { signal: ctx.signal });
 *     return { externalId: res.headers.get('x-id') };
 *   },
 * };
 * ```
 */
export interface ProviderDefinition<S = any> {
  /** Stable identifier used in `ProviderConfigInput.provider`, e.g. `sendgrid`. */
  slug: string;
  /** Human-readable name. */
  title: string;
  /** The channels this provider can serve. */
  channels: Channel[];
  /** JSON Schema of the settings (`ProviderConfigInput.config`). */
  settings: SettingsSchema;
  send(ctx: SendContext<S>): Promise<SendResult>;
}
