import { Channel } from '../../../domain/channel/channel.enum';
import type { SmsContent, WhatsAppContent } from '../../../domain/channel/channel-content';
import {
  PermanentProviderError,
  ProviderError,
  RetryableProviderError,
} from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, joinUrl, providerFetch, type ProviderResponse } from '../http';
import type { ProviderDefinition, SettingsInputOf, SettingsSchema } from '../../../domain/provider/provider-plugin';
import { twilioCallbacks } from './twilio.callbacks';

const DEFAULT_BASE_URL = 'https://api.twilio.com';
const WHATSAPP_PREFIX = 'whatsapp:';

const settingsSchema = {
  type: 'object',
  properties: {
    accountSid: { type: 'string', description: 'Twilio Account SID (starts with AC).', minLength: 1 },
    authToken: { type: 'string', description: 'Twilio Auth Token of the account.', secret: true, minLength: 1 },
    from: {
      type: 'string',
      description:
        'Sender phone number in E.164 form (e.g. +14155550100); also the WhatsApp sender unless whatsappFrom is set.',
    },
    whatsappFrom: {
      type: 'string',
      description: 'WhatsApp-enabled sender number (E.164, with or without the whatsapp: prefix).',
    },
    messagingServiceSid: {
      type: 'string',
      description: 'Messaging Service SID (starts with MG), used instead of a From number when set.',
    },
    baseUrl: {
      type: 'string',
      format: 'http-url',
      destination: true,
      description: 'Twilio API base URL.',
      default: DEFAULT_BASE_URL,
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      description: 'Timeout of one API call in milliseconds.',
      default: DEFAULT_TIMEOUT_MS,
    },
  },
  required: ['accountSid', 'authToken'],
} as const satisfies SettingsSchema;

/** Settings of a Twilio provider configuration, as written (from the schema above). */
export type TwilioSettings = SettingsInputOf<typeof settingsSchema>;

/**
 * Twilio Programmable Messaging: SMS and WhatsApp through the Messages API
 * (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth).
 *
 * The address is the profile's phone number (`phone_number`, `phone`, `sms` or `whatsapp`),
 * normalised to E.164 (`+1 (415) 555-0100` → `+14155550100`); for WhatsApp both `To` and `From`
 * carry the `whatsapp:` prefix. The external id is the message SID.
 *
 * @example
 * ```ts
 * configureProvider({ channel: SMS, provider: 'twilio',
 *   config: { accountSid: 'AC…', authToken: '…', from: '+14155550100' } })
 * ```
 */
export const twilioProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'twilio',
  title: 'Twilio (SMS, WhatsApp)',
  channels: [Channel.SMS, Channel.WHATSAPP],
  settings: settingsSchema,

  async send(ctx) {
    const { settings } = ctx;
    const whatsapp = ctx.channel === Channel.WHATSAPP;
    const to = normalisePhone(ctx.address);
    if (!to) {
      throw new PermanentProviderError(
        `Twilio: the profile's ${whatsapp ? 'WhatsApp' : 'SMS'} address is not a phone number`,
      );
    }

    const form = new URLSearchParams();
    form.set('To', whatsapp ? WHATSAPP_PREFIX + to : to);
    // Sender: SMS → messagingServiceSid, else from; WhatsApp → whatsappFrom, else messagingServiceSid, else from.
    const whatsappSender = whatsapp
      ? (settings.whatsappFrom ?? (settings.messagingServiceSid ? undefined : settings.from))
      : undefined;
    if (whatsappSender) {
      const from = normalisePhone(whatsappSender);
      if (!from) throw new PermanentProviderError('Twilio: whatsappFrom/from is not a phone number');
      form.set('From', WHATSAPP_PREFIX + from);
    } else if (settings.messagingServiceSid) {
      form.set('MessagingServiceSid', settings.messagingServiceSid);
    } else if (settings.from && !whatsapp) {
      // Kept as configured: it may be an alphanumeric sender id or a short code.
      form.set('From', settings.from);
    } else {
      throw new PermanentProviderError('Twilio: the configuration needs from (or whatsappFrom) or messagingServiceSid');
    }
    const content = ctx.content as SmsContent | WhatsAppContent;
    form.set('Body', content.body ?? '');
    // delivery callbacks (twilio.callbacks.ts) come back to this configuration's callback URL
    if (ctx.callbackUrl) form.set('StatusCallback', ctx.callbackUrl);

    const url = joinUrl(
      settings.baseUrl,
      `/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`,
    );
    const auth = Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64');
    const what = 'Twilio Messages';
    let response: ProviderResponse;
    try {
      response = await providerFetch(what, url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${auth}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        signal: ctx.signal,
        timeoutMs: settings.timeoutMs,
      });
    } catch (err) {
      throw withTwilioDetail(what, err);
    }
    const json = (await response.json().catch(() => ({}))) as { sid?: unknown };
    return { externalId: typeof json.sid === 'string' ? json.sid : null };
  },
  callbacks: twilioCallbacks,
};

/**
 * An address as E.164-ish digits: spaces, dashes, dots and parentheses removed, a leading `+`
 * (or a `whatsapp:` prefix) kept/dropped; null when what is left is not 6–15 digits.
 */
export function normalisePhone(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) value = String(value);
  if (typeof value !== 'string') return null;
  let s = value.trim();
  if (s.toLowerCase().startsWith(WHATSAPP_PREFIX)) s = s.slice(WHATSAPP_PREFIX.length).trim();
  s = s.replace(/[\s\-().]/g, '');
  return /^\+?\d{6,15}$/.test(s) ? s : null;
}

/**
 * Re-words an HTTP error with Twilio's `code` and `message` from its JSON error body, and keeps the code
 * as the error's `code` (`21610`: the recipient replied STOP; Pigeon then suppresses the address).
 */
function withTwilioDetail(what: string, err: unknown): unknown {
  if (!(err instanceof ProviderError) || err.status === undefined) return err;
  const prefix = `${what}: HTTP ${err.status} `;
  if (!err.message.startsWith(prefix)) return err;
  let body: { code?: unknown; message?: unknown; more_info?: unknown };
  try {
    body = JSON.parse(err.message.slice(prefix.length));
  } catch {
    return err;
  }
  if (body.code === undefined && body.message === undefined) return err;
  const detail = [body.code !== undefined ? `error ${String(body.code)}` : '', String(body.message ?? '')]
    .filter(Boolean)
    .join(': ');
  const message = `${what}: HTTP ${err.status} ${detail}${typeof body.more_info === 'string' ? ` (${body.more_info})` : ''}`;
  const code = typeof body.code === 'number' || typeof body.code === 'string' ? String(body.code) : undefined;
  return err instanceof RetryableProviderError
    ? new RetryableProviderError(message, err.status, err.retryAfterMs, code)
    : new PermanentProviderError(message, err.status, code);
}
