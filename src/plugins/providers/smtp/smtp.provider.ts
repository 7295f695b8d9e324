import { createTransport } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { Channel } from '../../../domain/channel/channel.enum';
import type { EmailContent } from '../../../domain/channel/channel-content';
import {
  PermanentProviderError,
  ProviderError,
  RetryableProviderError,
} from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS } from '../http';
import type {
  ProviderDefinition,
  SendContext,
  SettingsInputOf,
  SettingsOf,
  SettingsSchema,
} from '../../../domain/provider/provider-plugin';

const settingsSchema = {
  type: 'object',
  properties: {
    host: { type: 'string', description: 'SMTP server host name, e.g. smtp.example.com', minLength: 1 },
    port: {
      type: 'integer',
      description: 'SMTP server port; default 465 when secure, else 587',
      minimum: 1,
      maximum: 65535,
    },
    secure: {
      type: 'boolean',
      description: 'Use TLS from the start (usually port 465); when false, STARTTLS is used if the server offers it',
      default: false,
    },
    username: { type: 'string', description: 'User name for SMTP AUTH; leave empty for a server without auth' },
    password: { type: 'string', description: 'Password for SMTP AUTH', secret: true },
    from: {
      type: 'string',
      description: 'The From address of every mail, e.g. "Example Shop" <shop@example.com>',
      minLength: 1,
    },
    replyTo: { type: 'string', description: 'Optional Reply-To address' },
    timeoutMs: {
      type: 'integer',
      description: `Connection, greeting and socket timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
      minimum: 1,
      default: DEFAULT_TIMEOUT_MS,
    },
  },
  required: ['host', 'from'],
  additionalProperties: false,
} as const satisfies SettingsSchema;

/** Settings of an SMTP provider configuration, as written (from the schema above). */
export type SmtpSettings = SettingsInputOf<typeof settingsSchema>;

/** The header that carries the delivery's idempotency key. */
export const SMTP_IDEMPOTENCY_HEADER = 'X-Pigeon-Idempotency-Key';

/** Connection and network failures nodemailer reports that are worth another try. */
const RETRYABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL']);

/** The fields nodemailer sets on its errors. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/**
 * Maps a nodemailer error to a provider error: 4xx SMTP replies (421, 450, 451, 452…), refused or
 * dropped connections, DNS failures and timeouts are retryable; 5xx replies (550, 553, 554, 535
 * bad credentials…) and other client-side errors (no credentials, invalid envelope) are permanent.
 */
export function toSmtpProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  // duck-typed: socket errors may come from another realm (e.g. under Jest), failing `instanceof Error`
  const e: SmtpError =
    typeof err === 'object' && err !== null && typeof (err as SmtpError).message === 'string'
      ? (err as SmtpError)
      : new Error(String(err));
  const message = `smtp: ${e.command ? `${e.command} failed: ` : ''}${e.message}`;
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 500) return new RetryableProviderError(message, code);
  if (typeof code === 'number' && code >= 500) return new PermanentProviderError(message, code);
  if (e.code && RETRYABLE_CODES.has(e.code)) return new RetryableProviderError(message);
  if (e.code && /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|AI_AGAIN)$/.test(e.code)) {
    return new RetryableProviderError(message);
  }
  return new PermanentProviderError(message);
}

/** Sends one mail over a fresh connection, closed when the send ends (no pool, no leaked sockets). */
async function send(ctx: SendContext<SettingsOf<typeof settingsSchema>>): Promise<{ externalId: string | null }> {
  const { settings } = ctx;
  // what the schema cannot say: a password needs a user name, the port's default depends on `secure`
  if (settings.password && !settings.username) {
    throw new PermanentProviderError('smtp: settings.username is required when a password is set');
  }
  const port = settings.port ?? (settings.secure ? 465 : 587);
  if (typeof ctx.address !== 'string' || !ctx.address.includes('@')) {
    throw new PermanentProviderError('smtp: the recipient address must be an email address string');
  }
  const content = ctx.content as EmailContent;
  if (typeof content?.subject !== 'string') {
    throw new PermanentProviderError('smtp: the email content has no subject');
  }
  if (ctx.signal.aborted) throw new RetryableProviderError('smtp: aborted before sending');

  const options: SMTPTransport.Options = {
    host: settings.host,
    port,
    secure: settings.secure,
    auth: settings.username ? { user: settings.username, pass: settings.password ?? '' } : undefined,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    // rendered content is never a file path or URL to fetch
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
  const transport = createTransport(options);
  let onAbort: (() => void) | undefined;
  try {
    const sending = transport.sendMail({
      from: settings.from,
      to: ctx.address,
      replyTo: settings.replyTo || undefined,
      subject: content.subject,
      text: content.text,
      html: content.html,
      headers: { [SMTP_IDEMPOTENCY_HEADER]: ctx.idempotencyKey },
    });
    // nodemailer cannot abort a send; stop waiting (the socket times out on its own)
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new RetryableProviderError('smtp: aborted'));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    sending.catch(() => undefined);
    const info = await Promise.race([sending, aborted]);
    return { externalId: info.messageId ?? null };
  } catch (err) {
    throw toSmtpProviderError(err);
  } finally {
    if (onAbort) ctx.signal.removeEventListener('abort', onAbort);
    transport.close();
  }
}

/**
 * Email over any SMTP server (nodemailer). The `from` address is part of the configuration;
 * the delivery's idempotency key travels in the `X-Pigeon-Idempotency-Key` header and the
 * externalId is the mail's `Message-ID`.
 *
 * @example
 * ```ts
 * { host: 'smtp.example.com', port: 587, username: 'apikey', password: '…', from: 'Shop <shop@example.com>' }
 * ```
 */
export const smtpProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'smtp',
  title: 'SMTP',
  channels: [Channel.EMAIL],
  settings: settingsSchema,
  send,
};
