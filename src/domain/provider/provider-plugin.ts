import type { CallbackSupport } from './provider-callback';
import type { Channel } from '../channel/channel.enum';
import type { ContentByChannel } from '../channel/channel-content';

/**
 * A JSON Schema (draft-07 subset) describing a provider's settings. Every property, nested ones
 * included, carries a `description`; properties that hold secrets (passwords, tokens, API keys,
 * signing secrets, service-account keys) carry `secret: true`: they are encrypted at rest and
 * shown as `"********"` by the API. Properties that decide where requests go (base URLs, webhook URLs,
 * hosts, ports) carry `destination: true`: changing one requires the secrets to be given again.
 *
 * The registry validates settings against it, applying `default`s, both when a configuration is
 * saved and before every send (see {@link ProviderRegistry}); the plugin's settings type is derived
 * from it ({@link SettingsOf}). Declare it `as const satisfies SettingsSchema` so the derivation
 * sees the literal property names, types and `required` list.
 */
export interface SettingsSchema {
  readonly type: 'object';
  readonly properties: { readonly [name: string]: SettingsProperty };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

export type SettingsType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

/**
 * Formats a setting may declare: JSON Schema's `email` and `uri`, and Pigeon's own `http-url` (an
 * absolute http or https URL: every base URL and webhook URL), `header-name` (an HTTP header name)
 * and `single-line` (no CR, LF or NUL: an HTTP header value).
 */
export type SettingsFormat = 'email' | 'uri' | 'http-url' | 'header-name' | 'single-line';

export interface SettingsProperty {
  /** One JSON type, or several (e.g. `['object', 'string']` for a JSON document that may come as text). */
  readonly type: SettingsType | readonly SettingsType[];
  readonly description: string;
  readonly secret?: boolean;
  /**
   * The setting decides where the provider's requests go (a base URL, a webhook URL, a host or a port):
   * an update that changes it must give the configuration's secrets again instead of `"********"`,
   * so a stored secret never follows a changed destination.
   */
  readonly destination?: boolean;
  readonly format?: SettingsFormat;
  readonly enum?: readonly unknown[];
  /** Filled in by the registry when the setting is absent; the plugin then always sees a value. */
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  /** `minLength: 1` on a required string: an empty string counts as missing. */
  readonly minLength?: number;
  readonly properties?: { readonly [name: string]: SettingsProperty };
  readonly required?: readonly string[];
  readonly items?: SettingsProperty;
  /** For an object of free-form entries (e.g. extra HTTP headers): the schema of every value. */
  readonly additionalProperties?: boolean | SettingsProperty;
  /** For an object of free-form entries: what its keys must look like. */
  readonly propertyNames?: { readonly format?: SettingsFormat; readonly pattern?: string };
}

// ---------------------------------------------------------------------------------------------------
// Settings types derived from the schema, as Segment's action-destinations derive a payload type
// from its field definitions: the schema is the single description of a provider's settings.

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type TypeNames<P> = P extends { readonly type: infer T } ? (T extends readonly (infer U)[] ? U : T) : never;
type RequiredNames<P> = P extends { readonly required: readonly (infer R)[] } ? R : never;
type DefaultedNames<Props> = {
  [K in keyof Props]: Props[K] extends { readonly default: unknown } ? K : never;
}[keyof Props];

/** Names that always hold a value: the required ones and, once defaults are applied (`Out`), defaulted ones. */
type PresentNames<P, Props, Out extends boolean> =
  RequiredNames<P> | (Out extends true ? DefaultedNames<Props> : never);

/** The properties that always hold a value, typed. */
type PresentValues<P, Props, Out extends boolean> = {
  -readonly [K in keyof Props as K extends PresentNames<P, Props, Out> ? K : never]: PropertyValue<Props[K], Out>;
};
/** The other properties, optional. */
type OptionalValues<P, Props, Out extends boolean> = {
  -readonly [K in keyof Props as K extends PresentNames<P, Props, Out> ? never : K]?: PropertyValue<Props[K], Out>;
};

type ObjectValue<P, Out extends boolean> = P extends { readonly properties: infer Props }
  ? string extends keyof Props
    ? Record<string, unknown> // a schema not declared `as const`: its property names are not known
    : Simplify<PresentValues<P, Props, Out> & OptionalValues<P, Props, Out>>
  : P extends { readonly additionalProperties: infer A extends SettingsProperty }
    ? Record<string, PropertyValue<A, Out>>
    : Record<string, unknown>;

type TypeValue<T, P, Out extends boolean> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'array'
        ? P extends { readonly items: infer I }
          ? PropertyValue<I, Out>[]
          : unknown[]
        : T extends 'object'
          ? ObjectValue<P, Out>
          : never;

/** The TypeScript type of a value that satisfies property schema `P`. */
type PropertyValue<P, Out extends boolean> = P extends { readonly enum: readonly (infer E)[] }
  ? E
  : TypeValue<TypeNames<P>, P, Out>;

/**
 * The settings a provider's `send` receives: valid against schema `S`, `default`s applied (so a
 * defaulted setting is never `undefined`).
 *
 * @example
 * ```ts
 * const settings = {
 *   type: 'object',
 *   properties: {
 *     apiKey: { type: 'string', description: 'API key', secret: true, minLength: 1 },
 *     timeoutMs: { type: 'integer', description: 'Timeout in ms', minimum: 1, default: 10_000 },
 *   },
 *   required: ['apiKey'],
 * } as const satisfies SettingsSchema;
 * type Settings = SettingsOf<typeof settings>; // { apiKey: string; timeoutMs: number }
 * ```
 */
export type SettingsOf<S extends SettingsSchema> = ObjectValue<S, true>;

/** The settings of a configuration as stored and as written by users: defaulted settings may be left out. */
export type SettingsInputOf<S extends SettingsSchema> = ObjectValue<S, false>;

// ---------------------------------------------------------------------------------------------------
// Sending

/** The rendered content for one channel, as the provider receives it (one entry per row of the channel table). */
export type RenderedContentByChannel = ContentByChannel;

export type RenderedContent = RenderedContentByChannel[Channel];

/** Everything a provider needs to send one delivery. */
export interface SendContext<S = Record<string, unknown>> {
  /** The channel being delivered on (one of the provider's `channels`). */
  channel: Channel;
  /** The provider configuration's settings, secrets decrypted (and, for the plugin, validated with defaults). */
  settings: S;
  /**
   * The profile's address for the channel, as found by the pipeline from the channel's address
   * traits (`src/domain/channel/channels.ts`), e.g. the `email` trait for EMAIL,
   * `phone_number`/`phone`/`sms` for SMS, the `slack` object or `tokens.slackToken` for SLACK.
   * `undefined` for WEBHOOK, whose address is the provider's URL.
   */
  address: unknown;
  /** The rendered content for `channel`. */
  content: RenderedContent;
  /**
   * Headers an email must carry, when there are any: `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058
   * one-click unsubscribe) on an email of a commercial topic. Email providers add them to the message as they are.
   */
  headers?: Record<string, string>;
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
  /**
   * The configuration's callback URL (`PIGEON_PUBLIC_URL` + `/hooks/<id>`) when its plugin has `callbacks` and
   * PIGEON_PUBLIC_URL is set: a provider that takes a per-message status callback (Twilio's `StatusCallback`) passes it.
   */
  callbackUrl?: string;
}

export interface SendResult {
  /** The provider's id for what it sent (message SID, X-Message-Id, ts, …). */
  externalId?: string | null;
  /** True only when the provider confirmed delivery (then the message is `DELIVERED`, not `SENT`). */
  delivered?: boolean;
}

/**
 * A channel provider plugin: a declarative definition, registered explicitly in
 * `src/plugins/providers/index.ts` (how to write one: `src/plugins/providers/README.md`).
 *
 * `settings` is the JSON Schema of the configuration. The registry validates a configuration's
 * settings against it when it is saved and before `send` (invalid settings fail the delivery with a
 * {@link PermanentProviderError} naming the field, e.g. `acme: settings.apiKey is required`), and
 * applies its `default`s: `send` receives {@link SettingsOf} the schema and checks only what a
 * schema cannot say (the address, combinations of settings).
 *
 * `send` must either resolve (accepted by the provider) or throw a {@link ProviderError}:
 * {@link RetryableProviderError} for timeouts, connection failures, 408, 429 and 5xx, and
 * {@link PermanentProviderError} for everything else (other 4xx, invalid settings or address).
 * It never throws a bare `Error`.
 *
 * @example
 * ```ts
 * const echoSettings = {
 *   type: 'object',
 *   properties: { baseUrl: { type: 'string', description: 'Where to POST', format: 'http-url' } },
 *   required: ['baseUrl'],
 * } as const satisfies SettingsSchema;
 *
 * export const echoProvider: ProviderDefinition<typeof echoSettings> = {
 *   slug: 'echo',
 *   title: 'Echo (example)',
 *   channels: [Channel.WEBHOOK],
 *   settings: echoSettings,
 *   async send(ctx) {
 *     // ctx.settings: { baseUrl: string }
 *     const res = await postJson('echo', joinUrl(ctx.settings.baseUrl, '/echo'), { id: ctx.message.id });
 *     return { externalId: res.headers.get('x-id') };
 *   },
 * };
 * ```
 */
export interface ProviderDefinition<S extends SettingsSchema = SettingsSchema> {
  /** Stable identifier used in `ProviderConfigInput.provider`, e.g. `sendgrid`. */
  slug: string;
  /** Human-readable name. */
  title: string;
  /** The channels this provider can serve. */
  channels: Channel[];
  /** JSON Schema of the settings (`ProviderConfigInput.config`). */
  settings: S;
  send(ctx: SendContext<SettingsOf<S>>): Promise<SendResult>;
  /**
   * Delivery callbacks (optional): a configuration of a plugin that has them shows a `callbackUrl`
   * (`PIGEON_PUBLIC_URL` + `/hooks/<id>`) to paste into the provider's console.
   */
  callbacks?: CallbackSupport<SettingsOf<S>>;
}
