import { Channel } from '../../../domain/channel/channel.enum';
import type { EmailContent } from '../../../domain/channel/channel-content';
import { PermanentProviderError } from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, joinUrl, postJson } from '../http';
import { sendgridCallbacks } from './sendgrid.callbacks';
import type {
  ProviderDefinition,
  SendContext,
  SendResult,
  SettingsInputOf,
  SettingsOf,
  SettingsSchema,
} from '../../../domain/provider/provider-plugin';

export const SENDGRID_DEFAULT_BASE_URL = 'https://api.sendgrid.com';

const settingsSchema = {
  type: 'object',
  properties: {
    apiKey: {
      type: 'string',
      description: 'SendGrid API key with the Mail Send permission',
      secret: true,
      minLength: 1,
    },
    fromEmail: {
      type: 'string',
      description: 'The From address of every mail (a verified sender)',
      format: 'email',
      minLength: 1,
    },
    fromName: { type: 'string', description: 'Display name of the From address' },
    replyTo: { type: 'string', description: 'Optional Reply-To address', format: 'email' },
    baseUrl: {
      type: 'string',
      destination: true,
      description: `API base URL (default ${SENDGRID_DEFAULT_BASE_URL}; https://api.eu.sendgrid.com for EU data residency)`,
      format: 'http-url',
      default: SENDGRID_DEFAULT_BASE_URL,
    },
    timeoutMs: {
      type: 'integer',
      description: `How long one API call may take, in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
      minimum: 1,
      default: DEFAULT_TIMEOUT_MS,
    },
    webhookVerificationKey: {
      type: 'string',
      description:
        'The Signed Event Webhook verification key SendGrid shows (Settings → Mail Settings → Event Webhook: base64 ' +
        'of an ECDSA P-256 public key). Needed for delivery callbacks: without it they are refused',
    },
  },
  required: ['apiKey', 'fromEmail'],
  additionalProperties: false,
} as const satisfies SettingsSchema;

/** Settings of a SendGrid provider configuration, as written (from the schema above). */
export type SendGridSettings = SettingsInputOf<typeof settingsSchema>;

/** The v3 Mail Send body Pigeon sends (a subset of what SendGrid accepts). */
interface MailSendBody {
  personalizations: { to: { email: string }[] }[];
  from: { email: string; name?: string };
  reply_to?: { email: string };
  subject: string;
  content: { type: 'text/plain' | 'text/html'; value: string }[];
  /** Extra headers (RFC 8058 `List-Unsubscribe`, `List-Unsubscribe-Post`), when the message has any. */
  headers?: Record<string, string>;
  /** Echoed back in SendGrid's event webhook, so events can be matched to Pigeon messages. */
  custom_args: Record<string, string>;
}

/** Builds the Mail Send body; `text/plain` goes before `text/html`, as SendGrid requires. */
export function buildMailSendBody(ctx: SendContext<SettingsOf<typeof settingsSchema>>): MailSendBody {
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
    ...(ctx.headers && Object.keys(ctx.headers).length ? { headers: ctx.headers } : {}),
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
export const sendgridProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'sendgrid',
  title: 'SendGrid',
  channels: [Channel.EMAIL],
  settings: settingsSchema,
  async send(ctx): Promise<SendResult> {
    const { settings } = ctx;
    const body = buildMailSendBody(ctx);
    const response = await postJson('sendgrid mail/send', joinUrl(settings.baseUrl, '/v3/mail/send'), body, {
      headers: { authorization: `Bearer ${settings.apiKey}` },
      timeoutMs: settings.timeoutMs,
      signal: ctx.signal,
    });
    return { externalId: response.headers.get('x-message-id') };
  },
  callbacks: sendgridCallbacks,
};
