import { createHmac, randomBytes } from 'node:crypto';
import { ApiFake } from './api-fake';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

/**
 * A fake of Twilio's Messages API (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`) that
 * validates requests the way Twilio documents them: HTTP Basic auth `AccountSid:AuthToken` matching
 * the path's account (else 401, error 20003), an `application/x-www-form-urlencoded` body with `To`
 * (E.164, optionally `whatsapp:`-prefixed; else 21211), `From` or `MessagingServiceSid` (else 21603),
 * `Body` (else 21602), and `To`/`From` on the same channel (else 21910). Errors use Twilio's
 * `{ code, message, more_info, status }` JSON; an accepted message is answered 201 with its `sid`.
 *
 * Force other answers with `fake.http.respondOnce({ status: 429, headers: { 'retry-after': '3' } })`.
 *
 * Its status-callback side: an accepted message keeps its `StatusCallback` (`bySid`); `statusCallback(url, sid,
 * status)` builds the signed form post Twilio makes (`X-Twilio-Signature` over `url`), `postStatus(sid, status)`
 * posts it to the message's StatusCallback.
 */
export class TwilioFake extends ApiFake {
  /** Form bodies of the messages answered 201, oldest first. */
  readonly accepted: Record<string, string>[] = [];
  /**
   * Recipients (`To`, E.164, without `whatsapp:`) who replied STOP: a send to them is answered 400 with
   * error 21610 ("Attempt to send to unsubscribed recipient"), as Twilio does.
   */
  readonly stopped = new Set<string>();
  /** Accepted messages by their `sid` (form fields, `StatusCallback` included when the send carried one). */
  readonly bySid = new Map<string, Record<string, string>>();

  private constructor(
    http: HttpFake,
    readonly accountSid: string,
    readonly authToken: string,
  ) {
    super(http);
  }

  static async start(
    accountSid = 'AC00000000000000000000000000000001',
    authToken = 'twilio-auth-token',
  ): Promise<TwilioFake> {
    return new TwilioFake(await HttpFake.start(), accountSid, authToken);
  }

  /**
   * The status callback Twilio would post for message `sid` to `url`, with its real form fields and headers,
   * `X-Twilio-Signature` computed over `url` (with `authToken`: another one forges it).
   */
  statusCallback(
    url: string,
    sid: string,
    status: TwilioMessageStatus,
    options: { errorCode?: string; authToken?: string; extra?: Record<string, string> } = {},
  ): { body: string; headers: Record<string, string> } {
    const sent = this.bySid.get(sid);
    const form = new URLSearchParams();
    // the fields (and their order) of a real status callback
    form.set('ApiVersion', '2010-04-01');
    form.set('MessageStatus', status);
    form.set('SmsSid', sid);
    form.set('SmsStatus', status);
    form.set('To', sent?.To ?? '+14155550123');
    form.set('From', sent?.From ?? '+14155550100');
    if (sent?.MessagingServiceSid) form.set('MessagingServiceSid', sent.MessagingServiceSid);
    form.set('MessageSid', sid);
    form.set('AccountSid', this.accountSid);
    if (options.errorCode) form.set('ErrorCode', options.errorCode);
    if ((sent?.To ?? '').startsWith('whatsapp:')) form.set('ChannelPrefix', 'whatsapp');
    for (const [k, v] of Object.entries(options.extra ?? {})) form.set(k, v);
    return {
      body: form.toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'user-agent': 'TwilioProxy/1.1',
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
        'x-twilio-signature': twilioSignature(options.authToken ?? this.authToken, url, form),
      },
    };
  }

  /**
   * Posts the status callback of an accepted message to the `StatusCallback` its send carried (or to `via`
   * — where that URL is served, e.g. behind a proxy — keeping the signature over the StatusCallback URL).
   */
  async postStatus(
    sid: string,
    status: TwilioMessageStatus,
    options: { errorCode?: string; via?: string } = {},
  ): Promise<Response> {
    const url = this.bySid.get(sid)?.StatusCallback;
    if (!url) throw new Error(`twilio fake: message ${sid} was not sent with a StatusCallback`);
    const { body, headers } = this.statusCallback(url, sid, status, options);
    return fetch(options.via ?? url, { method: 'POST', headers, body });
  }

  protected answer(req: RecordedRequest): FakeResponse {
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.pathname);
    if (!match) return twilioError(404, 20404, `The requested resource ${req.pathname} was not found`);
    if (req.method !== 'POST') return twilioError(405, 20004, 'Method not allowed');
    const [user, password] = basicAuth(req.headers.authorization);
    if (user !== this.accountSid || password !== this.authToken || match[1] !== this.accountSid) {
      return twilioError(401, 20003, 'Authenticate');
    }
    // Twilio reads only form parameters: anything else looks like an empty request.
    const form = req.form ?? new URLSearchParams();
    const to = form.get('To');
    const from = form.get('From');
    const service = form.get('MessagingServiceSid');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!isAddress(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (from && !isAddress(from) && !isAlphanumericSender(from))
      return twilioError(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
    if (from && to.startsWith('whatsapp:') !== from.startsWith('whatsapp:')) {
      return twilioError(400, 21910, 'Invalid From and To pair. From and To should be of the same channel');
    }
    if (!form.get('Body')) return twilioError(400, 21602, 'Message body is required.');
    if (this.stopped.has(to.replace(/^whatsapp:/, ''))) {
      return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
    }

    const message = Object.fromEntries(form.entries());
    this.accepted.push(message);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.bySid.set(sid, message);
    return {
      status: 201,
      body: {
        sid,
        account_sid: this.accountSid,
        to,
        from: from ?? null,
        messaging_service_sid: service ?? null,
        body: message.Body,
        status: service && !from ? 'accepted' : 'queued',
        direction: 'outbound-api',
        uri: `/2010-04-01/Accounts/${this.accountSid}/Messages/${sid}.json`,
      },
    };
  }
}

/** Twilio's message statuses as its status callbacks carry them. */
export type TwilioMessageStatus =
  'queued' | 'sending' | 'sent' | 'accepted' | 'delivered' | 'undelivered' | 'failed' | 'read';

/**
 * `X-Twilio-Signature` of a request Twilio posts: base64 HMAC-SHA1 (auth token) of the URL followed by the form
 * parameters sorted by name, each as name + value (https://www.twilio.com/docs/usage/security#validating-requests).
 */
export function twilioSignature(authToken: string, url: string, form: URLSearchParams): string {
  const pairs = [...form.entries()].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return createHmac('sha1', authToken)
    .update(url + pairs.map(([k, v]) => k + v).join(''), 'utf8')
    .digest('base64');
}

/** A Twilio error answer, e.g. `{ code: 21211, message: "...", more_info: ".../21211", status: 400 }`. */
export function twilioError(status: number, code: number, message: string): FakeResponse {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

function basicAuth(header: string | undefined): [string?, string?] {
  const m = /^Basic (.+)$/.exec(header ?? '');
  if (!m) return [];
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? [decoded] : [decoded.slice(0, i), decoded.slice(i + 1)];
}

/** An alphanumeric sender id: up to 11 letters, digits and spaces, at least one letter. */
function isAlphanumericSender(value: string): boolean {
  return /^[A-Za-z0-9 ]{1,11}$/.test(value) && /[A-Za-z]/.test(value);
}

/** E.164, or `whatsapp:` + E.164. */
function isAddress(value: string): boolean {
  return /^(whatsapp:)?\+[1-9]\d{5,14}$/.test(value);
}
