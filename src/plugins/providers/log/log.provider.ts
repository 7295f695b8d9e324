import pino, { type Logger } from 'pino';
import { ALL_CHANNELS, channelDefinition, type Channel } from '../../../domain/channel/channels';
import { PermanentProviderError, RetryableProviderError } from '../../../domain/provider/provider.errors';
import type {
  ProviderDefinition,
  SendResult,
  SettingsInputOf,
  SettingsSchema,
} from '../../../domain/provider/provider-plugin';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
const MASK = '********';

/** Setting or address keys that look secret are masked even when the schema does not say so. */
const SECRET_KEY = /pass|secret|token|key|auth|credential|signature/i;

const settingsSchema = {
  type: 'object',
  properties: {
    label: { type: 'string', description: 'Added to every line, to tell several log configurations apart' },
    level: { type: 'string', description: 'Log level of the line (default info)', enum: LEVELS, default: 'info' },
    simulateFailure: {
      type: 'string',
      description: 'Make every send fail with a retryable or a permanent error, to try retries and failover',
      enum: ['retryable', 'permanent'],
    },
    apiKey: {
      type: 'string',
      description:
        'Not used for sending: a stand-in secret for trying secret handling (encrypted, masked, never logged)',
      secret: true,
    },
  },
  additionalProperties: false,
} as const satisfies SettingsSchema;

/** Settings of a log provider configuration (all optional), as written (from the schema above). */
export type LogSettings = SettingsInputOf<typeof settingsSchema>;

/** Settings with every secret (by schema or by name) replaced by `********`. */
function maskSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const properties: SettingsSchema['properties'] = settingsSchema.properties;
  const masked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    masked[key] = properties[key]?.secret || SECRET_KEY.test(key) ? MASK : maskDeep(value);
  }
  return masked;
}

/** Masks values under secret-looking keys at any depth. */
function maskDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskDeep);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? MASK : maskDeep(v)]));
}

/** Emails and phone numbers are shown; tokens (push, Slack, Teams) only by their first characters. */
function describeAddress(channel: Channel, address: unknown): unknown {
  // a contact anyone may see in a dev log, unless the channel table says the address is a credential
  if (!channelDefinition(channel).address.credential) return maskDeep(address);
  if (typeof address === 'string')
    return address.length > 8 ? `${address.slice(0, 4)}…(${address.length} chars)` : MASK;
  return maskDeep(address);
}

/**
 * A provider for development: it sends nothing and writes one structured pino line per delivery
 * (channel, masked address, rendered content, message ids, settings without secrets).
 *
 * @param logger where the lines go; the app passes its own logger, tests a logger on a memory stream.
 * @example
 * ```ts
 * const provider = createLogProvider(app.log.child({ component: 'log-provider' }));
 * ```
 */
export function createLogProvider(logger?: Logger): ProviderDefinition<typeof settingsSchema> {
  let log = logger;
  return {
    slug: 'log',
    title: 'Log (development)',
    channels: [...ALL_CHANNELS],
    settings: settingsSchema,
    async send(ctx): Promise<SendResult> {
      const { settings } = ctx;
      log ??= pino({ name: 'pigeon' });
      log[settings.level](
        {
          provider: 'log',
          label: settings.label,
          channel: ctx.channel,
          to: describeAddress(ctx.channel, ctx.address),
          userId: ctx.profile.userId,
          messageId: ctx.message.id,
          eventName: ctx.message.eventName,
          idempotencyKey: ctx.idempotencyKey,
          content: ctx.content,
          settings: maskSettings(settings),
        },
        `log provider: ${ctx.channel} message ${ctx.message.id} for ${ctx.profile.userId}`,
      );
      if (settings.simulateFailure === 'retryable')
        throw new RetryableProviderError('log: simulated retryable failure');
      if (settings.simulateFailure === 'permanent')
        throw new PermanentProviderError('log: simulated permanent failure');
      return { externalId: `log-${ctx.idempotencyKey}` };
    },
  };
}

/** The log provider writing to a default pino logger on stdout (created on first use). */
export const logProvider: ProviderDefinition<typeof settingsSchema> = createLogProvider();
