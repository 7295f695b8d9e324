import { createSign } from 'node:crypto';
import { Channel } from '../../../domain/channel/channel.enum';
import type { PushContent } from '../../../domain/channel/channel-content';
import {
  PermanentProviderError,
  ProviderError,
  RetryableProviderError,
} from '../../../domain/provider/provider.errors';
import { DEFAULT_TIMEOUT_MS, joinUrl, postJson, providerFetch, type ProviderResponse } from '../http';
import type { ProviderDefinition, SettingsInputOf, SettingsSchema } from '../../../domain/provider/provider-plugin';

const DEFAULT_BASE_URL = 'https://fcm.googleapis.com';
const DEFAULT_TOKEN_URL = 'https://oauth2.googleapis.com/token';

const settingsSchema = {
  type: 'object',
  properties: {
    serviceAccount: {
      type: ['object', 'string'],
      description:
        'Service-account key file (JSON, as downloaded from the Google Cloud console), as an object or its JSON text.',
      secret: true,
      properties: {
        client_email: { type: 'string', description: 'Service-account e-mail: the JWT issuer.', minLength: 1 },
        private_key: { type: 'string', description: 'PEM private key that signs the JWT.', secret: true, minLength: 1 },
        private_key_id: { type: 'string', description: 'Id of the private key (the JWT kid).' },
        project_id: { type: 'string', description: 'Firebase/Google Cloud project id.' },
        token_uri: {
          type: 'string',
          format: 'http-url',
          destination: true,
          description: 'OAuth token endpoint.',
          default: DEFAULT_TOKEN_URL,
        },
      },
      required: ['client_email', 'private_key'],
    },
    projectId: { type: 'string', description: "Firebase project id; defaults to the service account's project_id." },
    baseUrl: {
      type: 'string',
      format: 'http-url',
      destination: true,
      description: 'FCM API base URL.',
      default: DEFAULT_BASE_URL,
    },
    tokenUrl: {
      type: 'string',
      format: 'http-url',
      destination: true,
      description: "OAuth token endpoint, overriding the service account's token_uri.",
    },
    timeoutMs: {
      type: 'integer',
      minimum: 1,
      description: 'Timeout of one API call in milliseconds.',
      default: DEFAULT_TIMEOUT_MS,
    },
  },
  required: ['serviceAccount'],
} as const satisfies SettingsSchema;

/** Settings of a Firebase Cloud Messaging provider configuration, as written (from the schema above). */
export type FcmSettings = SettingsInputOf<typeof settingsSchema>;

/** The fields of a Google service-account key file that FCM needs (`serviceAccount` as an object). */
export type ServiceAccount = Exclude<FcmSettings['serviceAccount'], string>;

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const TOKEN_LIFETIME_S = 3600;
/** A cached access token is renewed this long before it expires. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
/** Keys FCM refuses in `data` (INVALID_ARGUMENT); they are left out. */
const RESERVED_DATA_KEY = /^(from|notification|message_type|google.*|gcm.*)$/i;

interface CachedToken {
  token: Promise<string>;
  /** Infinity while the request is in flight. */
  expiresAt: number;
}

/** Access tokens by token endpoint and service account, in flight or issued. */
const tokenCache = new Map<string, CachedToken>();

/**
 * Firebase Cloud Messaging through the HTTP v1 API (`projects/{id}/messages:send`).
 *
 * Authenticates as a service account: a JWT signed with its private key (RS256) is exchanged at
 * `token_uri` for an access token, cached per service account until five minutes before it expires.
 * The device token is the profile's `firebaseToken` or `tokens.push` (a string, or an object with a
 * `token` field); an APNs token (`apn`) alone cannot be used. `data` carries the message data as
 * strings plus `pigeonMessageId`. The external id is the message `name`.
 *
 * @example
 * ```ts
 * configureProvider({ channel: PUSH, provider: 'fcm', config: { serviceAccount: { client_email, private_key, project_id } } })
 * ```
 */
export const fcmProvider: ProviderDefinition<typeof settingsSchema> = {
  slug: 'fcm',
  title: 'Firebase Cloud Messaging',
  channels: [Channel.PUSH],
  settings: settingsSchema,

  async send(ctx) {
    const { settings } = ctx;
    const account = readServiceAccount(settings.serviceAccount);
    const projectId = settings.projectId || account.project_id;
    if (!projectId) throw new PermanentProviderError('FCM: no projectId configured and none in the service account');
    const deviceToken = deviceTokenOf(ctx.address, ctx.profile.traits);

    const content = ctx.content as PushContent;
    const body = {
      message: {
        token: deviceToken,
        notification: { title: content.title ?? '', body: content.body ?? '' },
        data: { ...stringData(ctx.message.data), pigeonMessageId: ctx.message.id },
      },
    };
    const url = joinUrl(settings.baseUrl, `/v1/projects/${encodeURIComponent(projectId)}/messages:send`);
    const tokenUrl = settings.tokenUrl || account.token_uri || DEFAULT_TOKEN_URL;
    const timeoutMs = settings.timeoutMs;

    const post = async (accessToken: string) =>
      postJson('FCM messages:send', url, body, {
        headers: { authorization: `Bearer ${accessToken}` },
        signal: ctx.signal,
        timeoutMs,
      });
    const reused = isUsable(tokenCache.get(cacheKey(tokenUrl, account)));
    let response: ProviderResponse;
    try {
      response = await post(await accessTokenFor(account, tokenUrl, timeoutMs));
    } catch (err) {
      // An access token revoked or expired early: drop it and try once with a new one.
      if (!(err instanceof ProviderError && err.status === 401 && reused)) throw withFcmDetail(err);
      tokenCache.delete(cacheKey(tokenUrl, account));
      try {
        response = await post(await accessTokenFor(account, tokenUrl, timeoutMs));
      } catch (retryErr) {
        throw withFcmDetail(retryErr);
      }
    }
    const json = (await response.json().catch(() => ({}))) as { name?: unknown };
    return { externalId: typeof json.name === 'string' ? json.name : null };
  },
};

/** Parses and checks the `serviceAccount` setting. */
function readServiceAccount(value: unknown): ServiceAccount {
  let account = value;
  if (typeof value === 'string') {
    try {
      account = JSON.parse(value);
    } catch {
      throw new PermanentProviderError('FCM: serviceAccount is not valid JSON');
    }
  }
  if (typeof account !== 'object' || account === null) {
    throw new PermanentProviderError('FCM: the configuration needs serviceAccount (the service-account key file)');
  }
  const a = account as Partial<ServiceAccount>;
  if (typeof a.client_email !== 'string' || !a.client_email || typeof a.private_key !== 'string' || !a.private_key) {
    throw new PermanentProviderError('FCM: serviceAccount needs client_email and private_key');
  }
  // A key pasted with literal "\n" sequences.
  return { ...a, private_key: a.private_key.replace(/\\n/g, '\n') } as ServiceAccount;
}

/** The FCM registration token for the address; an APNs-only profile is a permanent failure. */
function deviceTokenOf(address: unknown, traits: Record<string, unknown>): string {
  const tokens = traits.tokens as Record<string, unknown> | undefined;
  const apnOnly = address !== undefined && address === traits.apn;
  const candidates = [
    apnOnly ? undefined : address,
    traits.firebaseToken,
    typeof tokens === 'object' && tokens !== null ? tokens.push : undefined,
  ];
  for (const candidate of candidates) {
    const token = tokenIn(candidate);
    if (token) return token;
  }
  if (traits.apn !== undefined) {
    throw new PermanentProviderError(
      'FCM: the profile has only an APNs token (apn); FCM needs an FCM registration token (firebaseToken or tokens.push)',
    );
  }
  throw new PermanentProviderError('FCM: the profile has no FCM registration token (firebaseToken or tokens.push)');
}

function tokenIn(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim()) return value.trim();
  if (typeof value === 'object' && value !== null) {
    const token = (value as { token?: unknown }).token;
    if (typeof token === 'string' && token.trim()) return token.trim();
  }
  return undefined;
}

/** FCM `data` is string → string: strings as they are, everything else as JSON; reserved keys left out. */
function stringData(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (value === undefined || RESERVED_DATA_KEY.test(key)) continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out;
}

function cacheKey(tokenUrl: string, account: ServiceAccount): string {
  return `${tokenUrl}\n${account.client_email}`;
}

/** A cached access token, or a new one (concurrent sends share one token request). */
function accessTokenFor(account: ServiceAccount, tokenUrl: string, timeoutMs?: number): Promise<string> {
  const key = cacheKey(tokenUrl, account);
  const hit = tokenCache.get(key);
  if (isUsable(hit)) return hit.token;
  const entry: CachedToken = { token: Promise.resolve(''), expiresAt: Infinity };
  entry.token = requestAccessToken(account, tokenUrl, timeoutMs).then(({ token, lifetimeMs }) => {
    entry.expiresAt = Date.now() + lifetimeMs - Math.min(EXPIRY_MARGIN_MS, lifetimeMs / 2);
    return token;
  });
  entry.token.catch(() => tokenCache.get(key) === entry && tokenCache.delete(key));
  tokenCache.set(key, entry);
  return entry.token;
}

function isUsable(entry: CachedToken | undefined): entry is CachedToken {
  return entry !== undefined && entry.expiresAt > Date.now();
}

/** Exchanges a signed JWT for an access token (RFC 7523 JWT bearer grant). */
async function requestAccessToken(
  account: ServiceAccount,
  tokenUrl: string,
  timeoutMs?: number,
): Promise<{ token: string; lifetimeMs: number }> {
  const form = new URLSearchParams({
    grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
    assertion: signJwt(account, tokenUrl),
  });
  const response = await providerFetch('FCM OAuth token', tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    timeoutMs,
  });
  const json = (await response.json().catch(() => ({}))) as { access_token?: unknown; expires_in?: unknown };
  if (typeof json.access_token !== 'string' || !json.access_token) {
    throw new PermanentProviderError('FCM OAuth token: the answer has no access_token', response.status);
  }
  const lifetimeS = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : TOKEN_LIFETIME_S;
  return { token: json.access_token, lifetimeMs: lifetimeS * 1000 };
}

/** The service account's signed JWT assertion (RS256) for the FCM scope. */
function signJwt(account: ServiceAccount, audience: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', typ: 'JWT', ...(account.private_key_id ? { kid: account.private_key_id } : {}) };
  const claims = { iss: account.client_email, scope: SCOPE, aud: audience, iat, exp: iat + TOKEN_LIFETIME_S };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(account.private_key, 'base64url');
  } catch {
    throw new PermanentProviderError('FCM: serviceAccount.private_key is not a usable PEM RSA private key');
  }
  return `${unsigned}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** Re-words an HTTP error with FCM's status, error code and message from its JSON error body. */
function withFcmDetail(err: unknown): unknown {
  if (!(err instanceof ProviderError) || err.status === undefined) return err;
  const what = 'FCM messages:send';
  const prefix = `${what}: HTTP ${err.status} `;
  if (!err.message.startsWith(prefix)) return err;
  let body: { error?: { status?: string; message?: string; details?: { errorCode?: string }[] } };
  try {
    body = JSON.parse(err.message.slice(prefix.length));
  } catch {
    return err;
  }
  const e = body.error;
  if (!e) return err;
  const code = e.details?.find((d) => d?.errorCode)?.errorCode ?? e.status ?? '';
  const message = `${what}: HTTP ${err.status} ${code}${e.message ? `: ${e.message}` : ''}`;
  return err instanceof RetryableProviderError
    ? new RetryableProviderError(message, err.status, err.retryAfterMs)
    : new PermanentProviderError(message, err.status);
}
