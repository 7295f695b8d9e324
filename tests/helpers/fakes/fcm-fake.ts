import { verify, type KeyObject } from 'node:crypto';
import { ApiFake } from './api-fake';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Path of the fake's OAuth token endpoint (Google's is `https://oauth2.googleapis.com/token`). */
export const TOKEN_PATH = '/token';

export interface FcmFakeOptions {
  /** The Firebase project the fake serves. */
  projectId: string;
  /** Service accounts the token endpoint accepts: client_email → public key of its private key. */
  accounts: Record<string, KeyObject | string>;
  /** Device registration tokens that exist. */
  registered: string[];
  /** Device tokens that existed but are gone (answered 404 UNREGISTERED). */
  unregistered?: string[];
}

/** The claims of a JWT assertion the token endpoint accepted. */
export interface AcceptedAssertion {
  header: Record<string, unknown>;
  claims: { iss: string; scope: string; aud: string; iat: number; exp: number };
}

/**
 * A fake of Google's OAuth token endpoint and the FCM HTTP v1 API, checking what the real ones do:
 * - `POST /token` (form-encoded): `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and an
 *   `assertion` JWT whose RS256 signature verifies with the issuer's public key, whose `aud` is this
 *   endpoint, whose `scope` has firebase.messaging and which lives at most an hour; else
 *   `400 {"error":"invalid_grant",…}`. Issues `{ access_token, expires_in: 3599, token_type }`.
 * - `POST /v1/projects/{projectId}/messages:send`: a Bearer token it issued (else 401
 *   UNAUTHENTICATED), the right project (else 403), a JSON `message` with a registered `token`
 *   (404 UNREGISTERED for a gone one, else 400 INVALID_ARGUMENT) and string-valued `data`;
 *   answers `{ name: "projects/…/messages/…" }`.
 * Errors use Google's `{ error: { code, message, status, details: [FcmError] } }`.
 */
export class FcmFake extends ApiFake {
  /** Access tokens issued, oldest first. */
  readonly issued: string[] = [];
  /** JWT assertions accepted by the token endpoint. */
  readonly assertions: AcceptedAssertion[] = [];
  /** `message` objects accepted by messages:send. */
  readonly sent: Record<string, unknown>[] = [];
  /** Issued tokens that no longer authenticate (see {@link revoke}). */
  private readonly revoked = new Set<string>();
  private counter = 0;

  private constructor(
    http: HttpFake,
    private readonly options: FcmFakeOptions,
  ) {
    super(http);
  }

  static async start(options: FcmFakeOptions): Promise<FcmFake> {
    return new FcmFake(await HttpFake.start(), options);
  }

  /** The token endpoint's URL (`token_uri` / `tokenUrl`). */
  get tokenUrl(): string {
    return this.http.url + TOKEN_PATH;
  }

  /** Requests to the token endpoint. */
  get tokenRequests(): RecordedRequest[] {
    return this.http.requests.filter((r) => r.pathname === TOKEN_PATH);
  }

  /** Requests to messages:send. */
  get sendRequests(): RecordedRequest[] {
    return this.http.requests.filter((r) => r.pathname.endsWith('/messages:send'));
  }

  /** Makes an issued access token fail with 401 UNAUTHENTICATED from now on. */
  revoke(accessToken: string): void {
    this.revoked.add(accessToken);
  }

  protected answer(req: RecordedRequest): FakeResponse {
    if (req.pathname === TOKEN_PATH) return this.token(req);
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.pathname);
    if (match) return this.send(req, decodeURIComponent(match[1]));
    return fcmError(404, 'NOT_FOUND', `The requested URL ${req.pathname} was not found on this server.`);
  }

  private token(req: RecordedRequest): FakeResponse {
    const oauth = (error: string, description: string): FakeResponse => ({
      status: 400,
      body: { error, error_description: description },
    });
    if (req.method !== 'POST' || !req.form) return oauth('invalid_request', 'Expected a form-encoded POST');
    if (req.form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return oauth('unsupported_grant_type', `Invalid grant_type: ${req.form.get('grant_type') ?? ''}`);
    }
    const parts = (req.form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return oauth('invalid_grant', 'Invalid JWT');
    let header: Record<string, unknown>;
    let claims: AcceptedAssertion['claims'];
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return oauth('invalid_grant', 'Invalid JWT: not base64url JSON');
    }
    if (header.alg !== 'RS256') return oauth('invalid_grant', 'Invalid JWT: alg must be RS256');
    const publicKey = this.options.accounts[claims.iss];
    if (!publicKey) return oauth('invalid_grant', 'Invalid grant: account not found');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify('RSA-SHA256', signed, publicKey, Buffer.from(parts[2], 'base64url'))) {
      return oauth('invalid_grant', 'Invalid JWT Signature.');
    }
    if (claims.aud !== this.tokenUrl) return oauth('invalid_grant', 'Invalid JWT: audience is not the token endpoint');
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes(FCM_SCOPE)
    ) {
      return oauth('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    const now = Math.floor(Date.now() / 1000);
    if (!(claims.iat <= now + 60 && claims.exp > now && claims.exp - claims.iat <= 3600)) {
      return oauth(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    this.assertions.push({ header, claims });
    const accessToken = `ya29.fake-access-token-${this.issued.length + 1}`;
    this.issued.push(accessToken);
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }

  private send(req: RecordedRequest, projectId: string): FakeResponse {
    if (req.method !== 'POST') return fcmError(405, 'INVALID_ARGUMENT', 'Method not allowed');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !this.issued.includes(bearer) || this.revoked.has(bearer)) {
      return fcmError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    if (projectId !== this.options.projectId) {
      return fcmError(403, 'PERMISSION_DENIED', "Permission 'cloudmessaging.messages.create' denied on resource");
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return fcmError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const message = (req.json as { message?: Record<string, unknown> } | undefined)?.message;
    if (typeof message !== 'object' || message === null) {
      return fcmError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 'INVALID_ARGUMENT');
    }
    const data = message.data as Record<string, unknown> | undefined;
    if (data !== undefined) {
      const bad = Object.entries(data).find(
        ([key, value]) => typeof value !== 'string' || /^(from|notification|message_type|google|gcm)/.test(key),
      );
      if (bad) {
        return fcmError(400, 'INVALID_ARGUMENT', `Invalid value at 'message.data' (${bad[0]})`, 'INVALID_ARGUMENT');
      }
    }
    const token = message.token;
    if (typeof token === 'string' && this.options.unregistered?.includes(token)) {
      return fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED');
    }
    if (typeof token !== 'string' || !this.options.registered.includes(token)) {
      return fcmError(
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
        'INVALID_ARGUMENT',
      );
    }
    this.sent.push(message);
    this.counter += 1;
    return { status: 200, body: { name: `projects/${projectId}/messages/0:17000000000000${this.counter}%fake` } };
  }
}

/** Google's error shape, with an `FcmError` detail when `errorCode` is given. */
export function fcmError(
  code: number,
  status: string,
  message: string,
  errorCode?: string,
  headers?: Record<string, string>,
): FakeResponse {
  const details = errorCode ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] : [];
  return { status: code, headers, body: { error: { code, message, status, details } } };
}
