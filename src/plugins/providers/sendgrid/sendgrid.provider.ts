import { Channel } from '../../../domain/channel/channel.enum';
import type { EmailContent } from '../../../domain/channel/channel-content';
import { PermanentProviderError } from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, joinUrl, postJson } from '../http';
import type { ProviderDefinition, SendContext, SendResult } from '../../../domain/provider/provider-plugin';

/** Settings of a SendGrid provider configuration. */
export interface SendGridSettings {
  apiKey: string;
  /** The From address of every mail. */
  fromEmail: string;
  fromName?: string;
  replyTo?: string;
  /** Default `https://api.sendgrid.com`; tests point it at a local fake. */
  baseUrl?: string;
  timeoutMs?: number;
}

export const SENDGRID_DEFAULT_BASE_URL = 'https://api.sendgrid.com';

/** The v3 Mail Send body Pigeon sends (a subset of what SendGrid accepts). */
interface MailSendBody {
  personalizations: { to: { email: string }[] }[];
  from: { email: string; name?: string };
  reply_to?: { email: string };
  subject: string;
  content: { type: 'text/plain' | 'text/html'; value: string }[];
  /** Echoed back in SendGrid's event webhook, so events can be matched to Pigeon messages. */
  custom_args: Record<string, string>;
}

function validate(settings: unknown): SendGridSettings & { baseUrl: string; timeoutMs: number } {
  if (typeof settings !== 'object' || settings === null) {
    throw new PermanentProviderError('sendgrid: settings must be an object');
  }
  const s = settings as Partial<Record<keyof SendGridSettings, unknown>>;
  for (const key of ['apiKey', 'fromEmail'] as const) {
    if (typeof s[key] !== 'string' || (s[key] as string).trim() === '') {
      throw new PermanentProviderError(`sendgrid: settings.${key} is required`);
    }
  }
  for (const key of ['fromName', 'replyTo', 'baseUrl'] as const) {
    if (s[key] !== undefined && s[key] !== null && typeof s[key] !== 'string') {
      throw new PermanentProviderError(`sendgrid: settings.${key} must be a string`);
    }
  }
  const timeoutMs = s.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    throw new PermanentProviderError('sendgrid: settings.timeoutMs must be a positive number');
  }
  const baseUrl = (s.baseUrl as string | undefined) || SENDGRID_DEFAULT_BASE_URL;
  if (!isHttpUrl(baseUrl)) throw new PermanentProviderError('sendgrid: settings.baseUrl must be an http(s) URL');
  return { ...(settings as SendGridSettings), baseUrl, timeoutMs };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Builds the Mail Send body; `text/plain` goes before `text/html`, as SendGrid requires. */
export function buildMailSendBody(ctx: SendContext<SendGridSettings>): MailSendBody {
  if (typeof ctx.address !== 'string' || !ctx.address.includes('@')) {
    throw new PermanentProviderError('sendgrid: the recipient address must be an email address string');
  }
  const email = ctx.content as EmailContent;
  if (typeof email?.subject !== 'string' || email.subject === '') {
    throw new PermanentProviderError('sendgrid: the email content has no subject');
  }
  const content: MailSendBody['content'] = [];
  if (email.text) content.push({ type: 'text/plain', value: email.text });
  if (email.html) content.push({ type: 'text/html', value: email.html });
  if (content.length === 0) {
    throw new PermanentProviderError('sendgrid: the email content has neither text nor html');
  }
  const { fromEmail, fromName, replyTo } = ctx.settings;
  return {
    personalizations: [{ to: [{ email: ctx.address }] }],
    from: fromName ? { email: fromEmail, name: fromName } : { email: fromEmail },
    ...(replyTo ? { reply_to: { email: replyTo } } : {}),
    subject: email.subject,
    content,
    custom_args: { pigeon_message_id: ctx.message.id, pigeon_idempotency_key: ctx.idempotencyKey },
  };
}

/**
 * Email through SendGrid's v3 Mail Send API (`POST /v3/mail/send`, answered `202`). The externalId
 * is the `X-Message-Id` response header; `custom_args.pigeon_message_id` carries Pigeon's message id.
 *
 * @example
 * ```ts
 * { apiKey: 'SG.…', fromEmail: 'shop@example.com', fromName: 'Example Shop' }
 * ```
 */
export const sendgridProvider: ProviderDefinition<SendGridSettings> = {
  slug: 'sendgrid',
  title: 'SendGrid',
  channels: [Channel.EMAIL],
  settings: {
    type: 'object',
    properties: {
      apiKey: { type: 'string', description: 'SendGrid API key with the Mail Send permission', secret: true },
      fromEmail: { type: 'string', description: 'The From address of every mail (a verified sender)', format: 'email' },
      fromName: { type: 'string', description: 'Display name of the From address' },
      replyTo: { type: 'string', description: 'Optional Reply-To address', format: 'email' },
      baseUrl: {
        type: 'string',
        description: `API base URL (default ${SENDGRID_DEFAULT_BASE_URL}; https://api.eu.sendgrid.com for EU data residency)`,
        format: 'uri',
      },
      timeoutMs: {
        type: 'integer',
        description: `How long one API call may take, in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
        minimum: 1,
      },
    },
    required: ['apiKey', 'fromEmail'],
    additionalProperties: false,
  },
  async send(ctx): Promise<SendResult> {
    const settings = validate(ctx.settings);
    const body = buildMailSendBody({ ...ctx, settings });
    const response = await postJson('sendgrid mail/send', joinUrl(settings.baseUrl, '/v3/mail/send'), body, {
      headers: { authorization: `Bearer ${settings.apiKey}` },
      timeoutMs: settings.timeoutMs,
      signal: ctx.signal,
    });
    return { externalId: response.headers.get('x-message-id') };
  },
};
