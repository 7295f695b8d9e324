import { Channel } from '../../../domain/channel/channel.enum';
import type { MsTeamsContent } from '../../../domain/channel/channel-content';
import { PermanentProviderError, RetryableProviderError } from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, postJson } from '../http';
import type { ProviderDefinition, SettingsInputOf, SettingsSchema } from '../../../domain/provider/provider-plugin';
import { isHttpUrl } from '../../../domain/provider/provider-settings';

const settingsSchema = {
  type: 'object',
  properties: {
    webhookUrl: {
      type: 'string',
      format: 'http-url',
      description: 'Incoming webhook URL of the Teams channel, used when the profile has no webhook URL of its own.',
      secret: true,
    },
    cardFormat: {
      type: 'string',
      enum: ['MessageCard', 'AdaptiveCard'],
      description:
        'Payload shape: MessageCard for Office 365 connector webhooks, AdaptiveCard (an attachment message) for Workflows webhooks.',
      default: 'MessageCard',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      description: 'Timeout of one webhook call in milliseconds.',
      default: DEFAULT_TIMEOUT_MS,
    },
  },
} as const satisfies SettingsSchema;

/** Settings of a Microsoft Teams provider configuration, as written (from the schema above). */
export type MsTeamsSettings = SettingsInputOf<typeof settingsSchema>;

/** The `ms_teams` profile trait, when it carries a webhook. */
interface MsTeamsAddress {
  webhook_url?: string;
  webhookUrl?: string;
}

const WHAT = 'MS Teams webhook';

/**
 * Microsoft Teams through an incoming webhook: one POST of a card to the webhook URL.
 *
 * The URL is the profile's `ms_teams.webhook_url` (or `webhookUrl`), or the address itself when it
 * is an http(s) URL (e.g. `tokens.microsoftTeamsToken`), else the configured `webhookUrl`.
 * The body is a legacy `MessageCard` (`text` + a 100-character `summary`) by default, or a
 * message with one Adaptive Card attachment (`cardFormat: "AdaptiveCard"`) for Workflows webhooks.
 * Connector webhooks answer `200 "1"`; some failures arrive as `200` with an error text: one
 * mentioning 429 is retryable, any other permanent. A 2xx with an empty body (Workflows: 202) is a
 * success. Webhooks return no id, so there is no external id.
 *
 * @example
 * ```ts
 * configureProvider({ channel: MSTEAMS, provider: 'msteams', config: { webhookUrl: 'https://…webhook.office.com/…' } })
 * ```
 */
export const msTeamsProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'msteams',
  title: 'Microsoft Teams (incoming webhook)',
  channels: [Channel.MSTEAMS],
  settings: settingsSchema,

  async send(ctx) {
    const { settings } = ctx;
    const url = webhookFrom(ctx.address) ?? nonEmpty(settings.webhookUrl);
    if (!url) {
      throw new PermanentProviderError(
        'MS Teams: no webhook URL: the profile has no ms_teams.webhook_url and webhookUrl is not configured',
      );
    }
    // The URL is a credential: never echo it in an error.
    if (!isHttpUrl(url)) throw new PermanentProviderError('MS Teams: the webhook URL is not a valid http(s) URL');

    const text = (ctx.content as MsTeamsContent).text ?? '';
    const response = await postJson(WHAT, url, cardBody(text, settings.cardFormat), {
      signal: ctx.signal,
      timeoutMs: settings.timeoutMs,
    });
    const answer = (await response.text().catch(() => '')).trim();
    if (answer === '' || answer === '1') return { externalId: null };
    const message = `${WHAT}: HTTP ${response.status} ${answer.slice(0, 300)}`;
    if (/\b429\b/.test(answer)) throw new RetryableProviderError(message, 429);
    throw new PermanentProviderError(message, response.status);
  },
};

function cardBody(text: string, format: MsTeamsSettings['cardFormat']): unknown {
  if (format === 'AdaptiveCard') {
    return {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [{ type: 'TextBlock', text, wrap: true }],
          },
        },
      ],
    };
  }
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    summary: text.slice(0, 100),
    text,
  };
}

function webhookFrom(address: unknown): string | undefined {
  if (typeof address === 'string') return isHttpUrl(address.trim()) ? address.trim() : undefined;
  if (typeof address === 'object' && address !== null) {
    const a = address as MsTeamsAddress;
    return nonEmpty(a.webhook_url) ?? nonEmpty(a.webhookUrl);
  }
  return undefined;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
