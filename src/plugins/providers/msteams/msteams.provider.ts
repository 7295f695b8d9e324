import { Channel } from '../../../domain/channel/channel.enum';
import type { MsTeamsContent } from '../../../domain/channel/channel-content';
import {
  PermanentProviderError,
  ProviderError,
  RetryableProviderError,
} from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, postJson, type ProviderResponse } from '../http';
import type { ProviderDefinition, SettingsInputOf, SettingsSchema } from '../../../domain/provider/provider-plugin';
import { isHttpUrl } from '../../../domain/provider/provider-settings';
import {
  checkUntrustedUrl,
  isOnOrigin,
  publicOnlyDispatcher,
  resolvePublicAddresses,
  UNSAFE_ADDRESS_CODE,
} from '../safe-url';

/**
 * The hosts of Microsoft's incoming webhooks, the only ones a webhook URL may point at (unless its
 * origin is in the configuration's `trustedOrigins`):
 * - `*.webhook.office.com`: Office 365 connector webhooks (`https://<tenant>.webhook.office.com/webhookb2/…`);
 * - `outlook.office.com`, `outlook.office365.com`: connector webhooks of the older form (`/webhook/…`);
 * - `*.logic.azure.com`: Workflows (Power Automate) webhooks (`https://prod-NN.<region>.logic.azure.com/workflows/…`);
 * - `*.environment.api.powerplatform.com`: Workflows webhooks of the newer form (`…/powerautomate/automations/direct/workflows/…`).
 */
export const MSTEAMS_WEBHOOK_HOSTS: readonly string[] = [
  '*.webhook.office.com',
  'outlook.office.com',
  'outlook.office365.com',
  '*.logic.azure.com',
  '*.environment.api.powerplatform.com',
];

const settingsSchema = {
  type: 'object',
  properties: {
    webhookUrl: {
      type: 'string',
      format: 'http-url',
      destination: true,
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
    trustedOrigins: {
      type: 'array',
      destination: true,
      items: {
        type: 'string',
        format: 'http-url',
        description: 'An origin: scheme, host and port, e.g. http://teams-proxy.internal:8080',
      },
      description:
        "Origins trusted besides Microsoft's webhook hosts (*.webhook.office.com, outlook.office.com, outlook.office365.com, *.logic.azure.com, *.environment.api.powerplatform.com): a webhook URL on one of them is used as is, http and internal addresses included. For a proxy on your own network or a local fake in tests. Only this configuration can trust an origin, never a profile trait. Default: none.",
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
 * Profile traits are untrusted, so every URL — the configured one too — must be https on one of
 * {@link MSTEAMS_WEBHOOK_HOSTS} and resolve to public addresses only (`../safe-url.ts`: checked
 * before the call and again when connecting), unless its origin is in the configuration's
 * `trustedOrigins`. Errors never repeat the URL nor the webhook's answer.
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
    const target = await checkedTarget(url, settings.trustedOrigins);

    const text = (ctx.content as MsTeamsContent).text ?? '';
    let response: ProviderResponse;
    try {
      response = await postJson(WHAT, target.url, cardBody(text, settings.cardFormat), {
        signal: ctx.signal,
        timeoutMs: settings.timeoutMs,
        dispatcher: target.dispatcher,
      });
    } catch (err) {
      throw withoutAnswer(err);
    }
    // The answer is never echoed: the URL came from a profile, so its answer may be anyone's.
    const answer = (await response.text().catch(() => '')).trim();
    if (answer === '' || answer === '1') return { externalId: null };
    if (/\b429\b/.test(answer)) {
      throw new RetryableProviderError(`${WHAT}: HTTP ${response.status} with a delivery failure (rate limited)`, 429);
    }
    throw new PermanentProviderError(
      `${WHAT}: HTTP ${response.status} with an error text instead of "1" (not shown)`,
      response.status,
    );
  },
};

/** Lazily built: the connection pool for untrusted webhook URLs, connecting only to public addresses. */
let publicOnly: ReturnType<typeof publicOnlyDispatcher> | undefined;

/**
 * Where to post: a URL on a trusted origin as is (the shared pool); any other must pass
 * {@link checkUntrustedUrl} with {@link MSTEAMS_WEBHOOK_HOSTS}, resolve to public addresses only, and
 * goes through the public-only pool, which checks the address again when it connects.
 */
async function checkedTarget(
  url: string,
  trustedOrigins: readonly string[] | undefined,
): Promise<{ url: string; dispatcher?: ReturnType<typeof publicOnlyDispatcher> }> {
  if (isOnOrigin(url, trustedOrigins)) return { url };
  const check = checkUntrustedUrl(url, MSTEAMS_WEBHOOK_HOSTS);
  if (!check.ok) {
    throw new PermanentProviderError(
      `MS Teams: the webhook URL is refused: ${check.reason} (an https URL on Microsoft's webhook hosts: ${MSTEAMS_WEBHOOK_HOSTS.join(', ')})`,
    );
  }
  try {
    await resolvePublicAddresses(check.url.hostname);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === UNSAFE_ADDRESS_CODE) {
      throw new PermanentProviderError(
        'MS Teams: the webhook URL is refused: its host resolves to an address that is not public (private, loopback or link-local)',
      );
    }
    throw new RetryableProviderError(`${WHAT}: DNS lookup failed (${code ?? 'unknown error'})`);
  }
  publicOnly ??= publicOnlyDispatcher();
  return { url: check.url.href, dispatcher: publicOnly };
}

/**
 * A provider error of the HTTP call without the answer's text (`providerFetch` appends up to 500
 * characters of it): status, retryability and Retry-After are kept. An address refused when connecting
 * (the host's DNS answer changed after it was checked) is permanent, like one refused before.
 */
function withoutAnswer(err: unknown): unknown {
  if (!(err instanceof ProviderError)) return err;
  if (err.message.includes(`(${UNSAFE_ADDRESS_CODE})`)) {
    return new PermanentProviderError(
      'MS Teams: the webhook URL is refused: its host resolved to an address that is not public when connecting',
    );
  }
  if (err.status === undefined) return err;
  const message = `${WHAT}: HTTP ${err.status}`;
  return err instanceof RetryableProviderError
    ? new RetryableProviderError(message, err.status, err.retryAfterMs)
    : new PermanentProviderError(message, err.status);
}

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
