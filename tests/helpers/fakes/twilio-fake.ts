import { randomBytes } from 'node:crypto';
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
 */
export class TwilioFake extends ApiFake {
  /** Form bodies of the messages answered 201, oldest first. */
  readonly accepted: Record<string, string>[] = [];

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

    const message = Object.fromEntries(form.entries());
    this.accepted.push(message);
    const sid = `SM${randomBytes(16).toString('hex')}`;
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
