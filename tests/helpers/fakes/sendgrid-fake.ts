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
 */
export class SendGridFake extends ApiFake {
  /** Bodies of the mails answered 202, oldest first. */
  readonly accepted: SendGridMail[] = [];
  private counter = 0;

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
