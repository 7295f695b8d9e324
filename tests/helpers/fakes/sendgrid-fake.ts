import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { ApiFake } from './api-fake';
import { HttpFake, type FakeResponse, type RecordedRequest } from './http-fake';

/**
 * A fake of SendGrid's v3 Mail Send API (`POST /v3/mail/send`) that validates requests the way
 * the real one documents: `Authorization: Bearer <key>` (else 401), a JSON body with
 * `personalizations[].to[].email`, `from.email`, `subject`, non-empty `content[]` values with
 * `text/plain` before `text/html`, string-valued `custom_args` (else 400 with SendGrid's
 * `{"errors":[{message, field, help}]}` shape). An accepted mail is answered `202` with an
 * empty body and an `X-Message-Id` header, and kept in `accepted`.
 *
 * Force other answers with `fake.http.respondOnce({ status: 429, headers: { 'retry-after': '3' } })`.
 *
 * Its Event Webhook side: a P-256 key pair of its own (`verificationKey` is what SendGrid shows, for the
 * configuration's `webhookVerificationKey`), `event(kind, xMessageId)` builds an event with SendGrid's field names,
 * `signedEvents(events)` the signed request, `postEvents(url, events)` posts it.
 */
export class SendGridFake extends ApiFake {
  /** Bodies of the mails answered 202, oldest first. */
  readonly accepted: SendGridMail[] = [];
  private counter = 0;
  /** The Signed Event Webhook key pair (ECDSA P-256), as SendGrid makes one per account. */
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  /** The verification key SendGrid shows for the Signed Event Webhook: base64 DER SubjectPublicKeyInfo. */
  get verificationKey(): string {
    return this.keys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  }

  /** The `X-Message-Id` of the `n`-th accepted mail (1-based), as Mail Send answered it. */
  messageId(n = this.counter): string {
    return `sg-msg-${n}`;
  }

  /**
   * One Event Webhook event with SendGrid's field names, for the mail whose `X-Message-Id` is `messageId`:
   * `sg_message_id` is that id followed by SendGrid's suffix, `sg_event_id` a fresh id, `timestamp` now (Unix seconds).
   */
  event(kind: SendGridEventKind, messageId: string, extra: Record<string, unknown> = {}): SendGridEvent {
    const base: SendGridEvent = {
      email: 'ada@example.com',
      timestamp: Math.floor(Date.now() / 1000),
      'smtp-id': `<${messageId}@ismtpd0001p1lon1.sendgrid.net>`,
      event: kind,
      category: [],
      sg_event_id: randomBytes(16).toString('base64url'),
      sg_message_id: `${messageId}.filterdrecv-5645d9c87f-l5gtz-1-5F0C6DE5-2B.0`,
    };
    const byKind: Partial<Record<SendGridEventKind, Record<string, unknown>>> = {
      processed: {},
      delivered: { response: '250 2.0.0 OK  1607298801 v12si123456qkf.1 - gsmtp', ip: '168.245.1.1', tls: 1 },
      deferred: { response: '421 4.7.0 Try again later', attempt: '1', ip: '168.245.1.1', tls: 1 },
      bounce: {
        type: 'bounce',
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        status: '5.1.1',
        bounce_classification: 'Invalid Address',
        ip: '168.245.1.1',
        tls: 1,
      },
      dropped: { reason: 'Bounced Address', status: '5.0.0' },
      open: { useragent: 'Mozilla/5.0', ip: '66.249.84.1', sg_machine_open: false },
      click: {
        useragent: 'Mozilla/5.0',
        ip: '66.249.84.1',
        url: 'https://example.com/x',
        url_offset: { index: 0, type: 'html' },
      },
      spamreport: {},
      unsubscribe: {},
      group_unsubscribe: { asm_group_id: 1, useragent: 'Mozilla/5.0', ip: '66.249.84.1' },
    };
    return { ...base, ...byKind[kind], ...extra };
  }

  /**
   * A signed Event Webhook request, as SendGrid posts it: the JSON array as `body`, and the
   * `X-Twilio-Email-Event-Webhook-Signature` (base64 DER ECDSA over timestamp + body) and `-Timestamp` headers.
   */
  signedEvents(
    events: unknown[] | string,
    options: { timestamp?: number; key?: KeyObject } = {},
  ): { body: string; headers: Record<string, string> } {
    const body = typeof events === 'string' ? events : JSON.stringify(events);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const signature = sign('sha256', Buffer.from(timestamp + body), options.key ?? this.keys.privateKey).toString(
      'base64',
    );
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'SendGrid Event API',
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': timestamp,
      },
    };
  }

  /** Posts `events` signed to `url` (a configuration's callbackUrl, or where it is served), as SendGrid does. */
  async postEvents(url: string, events: unknown[], options: { timestamp?: number } = {}): Promise<Response> {
    const { body, headers } = this.signedEvents(events, options);
    return fetch(url, { method: 'POST', headers, body });
  }

  private constructor(
    http: HttpFake,
    private readonly apiKey: string,
  ) {
    super(http);
  }

  static async start(apiKey = 'SG.test-key'): Promise<SendGridFake> {
    return new SendGridFake(await HttpFake.start(), apiKey);
  }

  protected answer(req: RecordedRequest): FakeResponse {
    if (req.pathname !== '/v3/mail/send') return { status: 404, body: sgErrors('Not found', null) };
    if (req.method !== 'POST') return { status: 405, body: sgErrors('Method not allowed', null) };
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return {
        status: 401,
        body: sgErrors('The provided authorization grant is invalid, expired, or revoked', null),
      };
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return { status: 400, body: sgErrors('Content-Type should be application/json.', null) };
    }
    const problems = validateMail(req.json);
    if (problems.length > 0) return { status: 400, body: { errors: problems } };
    this.accepted.push(req.json as SendGridMail);
    this.counter += 1;
    return { status: 202, headers: { 'x-message-id': `sg-msg-${this.counter}` } };
  }
}

export type SendGridEventKind =
  | 'processed'
  | 'delivered'
  | 'deferred'
  | 'bounce'
  | 'dropped'
  | 'open'
  | 'click'
  | 'spamreport'
  | 'unsubscribe'
  | 'group_unsubscribe';

/** One Event Webhook event (SendGrid's field names; the kinds' own fields besides these). */
export interface SendGridEvent {
  email: string;
  timestamp: number;
  event: string;
  sg_event_id: string;
  sg_message_id: string;
  [field: string]: unknown;
}

/** The parts of a SendGrid mail body the fake understands. */
export interface SendGridMail {
  personalizations: { to: { email: string; name?: string }[]; custom_args?: Record<string, string> }[];
  from: { email: string; name?: string };
  reply_to?: { email: string; name?: string };
  subject: string;
  content: { type: string; value: string }[];
  custom_args?: Record<string, string>;
}

interface SgError {
  message: string;
  field: string | null;
  help: string | null;
}

function sgErrors(message: string, field: string | null): { errors: SgError[] } {
  return { errors: [{ message, field, help: null }] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmail = (v: unknown): boolean => typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v);

function validateMail(body: unknown): SgError[] {
  const errors: SgError[] = [];
  const fail = (message: string, field: string | null) => errors.push({ message, field, help: null });
  if (!isObject(body)) {
    fail('Bad Request', null);
    return errors;
  }
  const { personalizations, from, subject, content, custom_args: customArgs, reply_to: replyTo } = body;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    fail('The personalizations field is required and must have at least one personalization.', 'personalizations');
  } else {
    personalizations.forEach((p: unknown, i) => {
      const to = isObject(p) ? p.to : undefined;
      if (!Array.isArray(to) || to.length === 0) {
        fail('The to array is required for all personalization objects.', `personalizations.${i}.to`);
      } else {
        to.forEach((r: unknown, j) => {
          if (!isObject(r) || !isEmail(r.email)) {
            fail('Does not contain a valid address.', `personalizations.${i}.to.${j}.email`);
          }
        });
      }
    });
  }
  if (!isObject(from) || !isEmail(from.email)) {
    fail('The from object must be provided for every email send.', 'from');
  }
  if (replyTo !== undefined && (!isObject(replyTo) || !isEmail(replyTo.email))) {
    fail('The reply_to email does not contain a valid address.', 'reply_to');
  }
  if (typeof subject !== 'string' || subject.length === 0) {
    fail('The subject is required. You can get around this requirement if you use a template.', 'subject');
  }
  if (!Array.isArray(content) || content.length === 0) {
    fail('Unless a valid template_id is provided, the content parameter is required.', 'content');
  } else {
    content.forEach((c: unknown, i) => {
      if (!isObject(c) || typeof c.type !== 'string' || typeof c.value !== 'string' || c.value.length === 0) {
        fail('The content value must be a string at least one character in length.', `content.${i}.value`);
      }
    });
    const types = content.map((c: unknown) => (isObject(c) ? c.type : undefined));
    const html = types.indexOf('text/html');
    const plain = types.indexOf('text/plain');
    if (plain > 0 || (html >= 0 && plain >= 0 && html < plain)) {
      fail(
        'If present, text/plain and text/html may only be provided in the order of text/plain, text/html.',
        'content',
      );
    }
  }
  if (customArgs !== undefined) {
    if (!isObject(customArgs) || Object.values(customArgs).some((v) => typeof v !== 'string')) {
      fail('Custom args must be an object with string values.', 'custom_args');
    }
  }
  return errors;
}
