import { createTransport } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import addressparser from 'nodemailer/lib/addressparser';
import { Channel } from '../../../domain/channel/channel.enum';
import { singleEmailAddress } from '../../../domain/channel/email-address';
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
    host: {
      type: 'string',
      description: 'SMTP server host name, e.g. smtp.example.com',
      minLength: 1,
      destination: true,
    },
    port: {
      type: 'integer',
      destination: true,
      description: 'SMTP server port; default 465 when secure, else 587',
      minimum: 1,
      maximum: 65535,
    },
    secure: {
      type: 'boolean',
      description:
        'Use TLS from the start (usually port 465); when false, the connection is upgraded with STARTTLS, which the server must offer (see allowPlaintext)',
      default: false,
    },
    allowPlaintext: {
      type: 'boolean',
      // turning it on with a masked password would send the stored password in clear: give it again
      destination: true,
      description:
        'Allow a connection without TLS when the server offers no STARTTLS: the mail and the password then cross the network in clear. Only for a relay on the same host or a trusted local network; default false (such a server is refused before anything is sent)',
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
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && !/initiating TLS/.test(e.message)) {
    // requireTLS and a server that refuses STARTTLS: the same answer next time; nothing was sent
    return new PermanentProviderError(
      'smtp: the server offers no STARTTLS, so the password and the mail would cross the network in clear; ' +
        'set secure (TLS from the start), or allowPlaintext for a local relay',
      typeof e.responseCode === 'number' ? e.responseCode : undefined,
    );
  }
  const code = e.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 500) return new RetryableProviderError(message, code);
  if (typeof code === 'number' && code >= 500) return new PermanentProviderError(message, code);
  if (e.code && RETRYABLE_CODES.has(e.code)) return new RetryableProviderError(message);
  if (e.code && /^E(CONNREFUSED|CONNRESET|HOSTUNREACH|NETUNREACH|PIPE|AI_AGAIN)$/.test(e.code)) {
    return new RetryableProviderError(message);
  }
  return new PermanentProviderError(message);
}

/**
 * The one recipient of a send, or undefined: the address must be one bare email address (the channel
 * table's check, `singleEmailAddress`) that nodemailer also reads as exactly that one address, so a
 * list or a group can never turn one message into several.
 */
export function singleRecipient(address: unknown): string | undefined {
  const check = singleEmailAddress(address);
  if (!check.ok) return undefined;
  const parsed = addressparser(check.address, { flatten: true });
  return parsed.length === 1 && parsed[0].address === check.address && !parsed[0].name ? check.address : undefined;
}

/** Sends one mail over a fresh connection, closed when the send ends (no pool, no leaked sockets). */
async function send(ctx: SendContext<SettingsOf<typeof settingsSchema>>): Promise<{ externalId: string | null }> {
  const { settings } = ctx;
  // what the schema cannot say: a password needs a user name, the port's default depends on `secure`
  if (settings.password && !settings.username) {
    throw new PermanentProviderError('smtp: settings.username is required when a password is set');
  }
  const port = settings.port ?? (settings.secure ? 465 : 587);
  const recipient = singleRecipient(ctx.address);
  if (recipient === undefined) {
    throw new PermanentProviderError('smtp: the recipient address must be exactly one email address');
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
    // without `secure`, insist on STARTTLS (nodemailer fails before AUTH and MAIL when the server
    // does not offer it) unless the operator allowed a plain connection explicitly
    requireTLS: !settings.secure && !settings.allowPlaintext,
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
      to: recipient,
      replyTo: settings.replyTo || undefined,
      subject: content.subject,
      text: content.text,
      html: content.html,
      headers: { ...ctx.headers, [SMTP_IDEMPOTENCY_HEADER]: ctx.idempotencyKey },
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
