import { Channel } from '../../../domain/channel/channel.enum';
import type { SlackContent } from '../../../domain/channel/channel-content';
import {
  parseRetryAfter,
  PermanentProviderError,
  RetryableProviderError,
} from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, joinUrl, providerFetch, postJson } from '../http';
import type { ProviderDefinition, SettingsInputOf, SettingsSchema } from '../../../domain/provider/provider-plugin';

/** The `slack` profile trait (Courier-style). */
interface SlackAddress {
  access_token?: string;
  channel?: string;
  user_id?: string;
  email?: string;
}

const DEFAULT_BASE_URL = 'https://slack.com';

const settingsSchema = {
  type: 'object',
  properties: {
    botToken: {
      type: 'string',
      description: 'Bot User OAuth token (xoxb-…), used when the profile has no Slack token of its own.',
      secret: true,
    },
    defaultChannel: {
      type: 'string',
      description: 'Channel id or #name to post to when the profile names no channel, user or email.',
    },
    baseUrl: {
      type: 'string',
      format: 'http-url',
      destination: true,
      description: 'Slack Web API base URL.',
      default: DEFAULT_BASE_URL,
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      description: 'Timeout of one API call in milliseconds.',
      default: DEFAULT_TIMEOUT_MS,
    },
  },
} as const satisfies SettingsSchema;

/** Settings of a Slack provider configuration, as written (from the schema above). */
export type SlackSettings = SettingsInputOf<typeof settingsSchema>;

/** Slack `error` codes worth another try; every other `ok: false` is permanent. */
const RETRYABLE_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * Slack through the Web API's `chat.postMessage` (Bearer token, JSON body).
 *
 * The token is the profile's `slack.access_token` (or `tokens.slackToken`), else the configured
 * `botToken`. The channel is the profile's `slack.channel`, else `slack.user_id` (a DM), else the
 * user found by `users.lookupByEmail` for `slack.email`, else the configured `defaultChannel`.
 * Slack answers failures with HTTP 200 and `{ ok: false, error }`: rate limits and Slack-side
 * errors are retryable, the rest permanent. The external id is the message `ts`.
 *
 * @example
 * ```ts
 * configureProvider({ channel: SLACK, provider: 'slack', config: { botToken: 'xoxb-…', defaultChannel: '#alerts' } })
 * ```
 */
export const slackProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'slack',
  title: 'Slack',
  channels: [Channel.SLACK],
  settings: settingsSchema,

  async send(ctx) {
    const { settings } = ctx;
    const profile: SlackAddress = typeof ctx.address === 'object' && ctx.address !== null ? ctx.address : {};
    const token = nonEmpty(profile.access_token) ?? nonEmpty(ctx.address) ?? nonEmpty(settings.botToken);
    if (!token) {
      throw new PermanentProviderError(
        'Slack: no token: the profile has no slack.access_token and botToken is not configured',
      );
    }
    const api = new SlackApi(settings.baseUrl, token, ctx.signal, settings.timeoutMs);

    let channel = nonEmpty(profile.channel) ?? nonEmpty(profile.user_id);
    const email = nonEmpty(profile.email);
    if (!channel && email) {
      const found = await api.call<{ user?: { id?: string } }>('users.lookupByEmail', { email });
      channel = nonEmpty(found.user?.id);
    }
    channel ??= nonEmpty(settings.defaultChannel);
    if (!channel) {
      throw new PermanentProviderError(
        'Slack: no channel: the profile has no slack.channel, user_id or email and defaultChannel is not configured',
      );
    }

    const content = ctx.content as SlackContent;
    const posted = await api.call<{ ts?: string }>('chat.postMessage', undefined, {
      channel,
      text: content.text ?? '',
    });
    return { externalId: posted.ts ?? null };
  },
};

/** One Slack Web API method call per `call`, with Slack's `ok: false` turned into provider errors. */
class SlackApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly signal: AbortSignal,
    private readonly timeoutMs?: number,
  ) {}

  /** GET with `query` when there is no `body`, else POST JSON. */
  async call<T>(method: string, query?: Record<string, string>, body?: unknown): Promise<T> {
    const what = `Slack ${method}`;
    let url = joinUrl(this.baseUrl, `/api/${method}`);
    if (query) url += `?${new URLSearchParams(query).toString()}`;
    const init = {
      headers: { authorization: `Bearer ${this.token}` },
      signal: this.signal,
      timeoutMs: this.timeoutMs,
    };
    const response =
      body === undefined
        ? await providerFetch(what, url, { ...init, method: 'GET' })
        : await postJson(what, url, body, {
            ...init,
            headers: { ...init.headers, 'content-type': 'application/json; charset=utf-8' },
          });
    const json = (await response.json().catch(() => null)) as ({ ok?: boolean; error?: string } & T) | null;
    if (!json || typeof json !== 'object') {
      throw new PermanentProviderError(`${what}: the answer is not Slack JSON`, response.status);
    }
    if (json.ok === true) return json;
    const error = json.error ?? 'unknown_error';
    const message = `${what}: ${error}`;
    if (RETRYABLE_ERRORS.has(error)) {
      throw new RetryableProviderError(message, response.status, parseRetryAfter(response.headers.get('retry-after')));
    }
    throw new PermanentProviderError(message, response.status);
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
