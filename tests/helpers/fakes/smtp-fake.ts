import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerSession } from 'smtp-server';

/** Where the fake can be told to refuse a transaction. */
export type SmtpStage = 'MAIL' | 'RCPT' | 'DATA';

/** A refusal: the stage, the SMTP reply code (451, 550…) and its text. */
export interface SmtpFailure {
  stage: SmtpStage;
  code: number;
  message?: string;
}

/** A message the fake accepted, with its headers and decoded text/html parts. */
export interface ReceivedMail {
  /** Envelope sender and recipients (MAIL FROM / RCPT TO). */
  envelope: { from: string; to: string[] };
  /** The authenticated user name, if any. */
  user?: string;
  /** The raw DATA as received. */
  raw: string;
  /** Top-level headers, lower-case names, unfolded, encoded words decoded. */
  headers: Record<string, string>;
  subject?: string;
  text?: string;
  html?: string;
}

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1, plain text (no STARTTLS: the smtp
 * provider must be configured with `allowPlaintext: true` to use it, as for a local relay), that
 * requires AUTH PLAIN/LOGIN with the given credentials, collects accepted messages, and can be
 * told to refuse MAIL, RCPT or DATA with a chosen reply code.
 *
 * @example
 * ```ts
 * const smtp = await SmtpFake.start({ username: 'u', password: 'p' });
 * smtp.failNext({ stage: 'RCPT', code: 451 });
 * // … send through nodemailer to smtp.host / smtp.port …
 * expect(smtp.messages[0].subject).toBe('Hi');
 * await smtp.close();
 * ```
 */
export class SmtpFake {
  readonly messages: ReceivedMail[] = [];
  /** Every AUTH the fake received, right or wrong (to show that a password was, or was not, sent). */
  readonly logins: { username: string; password: string }[] = [];
  /** Connections opened to the fake. */
  connections = 0;
  readonly host = '127.0.0.1';
  private failures: SmtpFailure[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(credentials: { username: string; password: string }): Promise<SmtpFake> {
    // the handlers need the fake, which needs the listening server
    const ref: { fake?: SmtpFake } = {};
    const fail = (stage: SmtpStage): Error | null => ref.fake?.takeFailure(stage) ?? null;
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      closeTimeout: 100,
      onConnect(_session, callback) {
        if (ref.fake) ref.fake.connections += 1;
        callback();
      },
      onAuth(auth: SMTPServerAuthentication, _session: SMTPServerSession, callback) {
        ref.fake?.logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
        if (auth.username === credentials.username && auth.password === credentials.password) {
          return callback(null, { user: auth.username });
        }
        return callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      },
      onMailFrom(_address, _session, callback) {
        callback(fail('MAIL'));
      },
      onRcptTo(_address, _session, callback) {
        callback(fail('RCPT'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const failure = fail('DATA');
          if (failure) return callback(failure);
          ref.fake?.messages.push(parseMail(Buffer.concat(chunks).toString('utf8'), session));
          callback(null);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    // smtp-server logs socket errors through 'error'; keep them from crashing the test process
    server.on('error', () => undefined);
    ref.fake = new SmtpFake(server, (server.server.address() as AddressInfo).port);
    return ref.fake;
  }

  /** Queues a refusal for the next transaction that reaches `failure.stage`. */
  failNext(failure: SmtpFailure): void {
    this.failures.push(failure);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private takeFailure(stage: SmtpStage): Error | null {
    const index = this.failures.findIndex((f) => f.stage === stage);
    if (index < 0) return null;
    const [failure] = this.failures.splice(index, 1);
    return Object.assign(new Error(failure.message ?? `Refused by the fake at ${stage}`), {
      responseCode: failure.code,
    });
  }
}

/** Enough MIME to read what nodemailer writes: headers, single part or multipart/alternative. */
export function parseMail(raw: string, session?: SMTPServerSession): ReceivedMail {
  const { headers, body } = splitPart(raw);
  const mail: ReceivedMail = {
    envelope: {
      from: session?.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      to: session ? session.envelope.rcptTo.map((r) => r.address) : [],
    },
    user: typeof session?.user === 'string' ? session.user : undefined,
    raw,
    headers,
    subject: headers.subject,
  };
  for (const part of leafParts(headers, body)) {
    const type = (part.headers['content-type'] ?? 'text/plain').split(';')[0].trim().toLowerCase();
    const decoded = decodeBody(part.body, part.headers['content-transfer-encoding']);
    if (type === 'text/plain' && mail.text === undefined) mail.text = decoded;
    if (type === 'text/html' && mail.html === undefined) mail.html = decoded;
  }
  return mail;
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const normalized = raw.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end < 0 ? normalized : normalized.slice(0, end);
  const body = end < 0 ? '' : normalized.slice(end + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(name in headers)) headers[name] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function leafParts(headers: Record<string, string>, body: string): Part[] {
  const type = headers['content-type'] ?? '';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\//i.test(type) || !boundary) return [{ headers, body }];
  const sections = body.split(`--${boundary}`).slice(1);
  const parts: Part[] = [];
  for (const section of sections) {
    if (section.startsWith('--')) break; // the closing delimiter
    const part = splitPart(section.replace(/^\n/, '').replace(/\n$/, ''));
    parts.push(...leafParts(part.headers, part.body));
  }
  return parts;
}

function decodeBody(body: string, encoding = '7bit'): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body.replace(/\n$/, '');
  }
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8').replace(/\n$/, '');
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_m, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}
