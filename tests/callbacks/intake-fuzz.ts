import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { anyValue, json, jsonObject, malformed, Raw, text } from '../helpers/fuzz';

/**
 * Hostile input for the provider callback route `POST /hooks/:id` (docs/guarantees.md, section 2: hostile input
 * never breaks the server), as fast-check arbitraries: bodies that are correctly signed but hostile inside
 * (so verification passes and the parsers and the store see them), forged or missing signatures, stale and
 * absurd timestamps, odd content types, wrong and weird hook ids, huge bodies. Used with few runs by
 * tests/callbacks/intake-fuzz.test.ts and with 10,000+ cases by tests/faults/callback-fuzz.fault.ts.
 */

/** The hooks under test: one configuration per provider, with the keys the generated requests sign with. */
export interface FuzzHooks {
  publicUrl: string;
  sendgrid: { path: string };
  twilio: { path: string; authToken: string };
  webhook: { path: string; secret: string };
}

/** The SendGrid key pair of the fuzzed configuration (its public key goes into `webhookVerificationKey`). */
export const FUZZ_SENDGRID_KEYS = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const FUZZ_SENDGRID_PUBLIC_KEY = FUZZ_SENDGRID_KEYS.publicKey
  .export({ format: 'der', type: 'spki' })
  .toString('base64');

type Signing = 'valid' | 'forged' | 'none' | 'stale' | 'garbage';

export interface CallbackCase {
  target: 'sendgrid' | 'twilio' | 'webhook' | 'unknown';
  /** Another id than the configuration's, for `unknown`. */
  hookId?: string;
  body: unknown;
  /** Twilio: form fields (pairs, repeated names allowed); others: JSON (or Raw bytes). */
  form?: [string, string][];
  signing: Signing;
  contentType: string | undefined;
  query: string;
  extraHeaders: Record<string, string>;
}

const SENDGRID_KINDS = [
  'processed',
  'delivered',
  'deferred',
  'bounce',
  'dropped',
  'open',
  'click',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
];
const TWILIO_STATUSES = ['queued', 'sending', 'sent', 'accepted', 'delivered', 'undelivered', 'failed', 'read'];

const idish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: anyValue },
  { weight: 1, arbitrary: fc.string({ minLength: 250, maxLength: 260 }) },
);

const timeish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('now') },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1e15, -1, 253402300800, '2020-13-45T99:99:99Z', '+275760-09-13T00:00:00.000Z'),
  },
  { weight: 1, arbitrary: json },
);

const sendgridEvent = fc
  .record(
    {
      email: idish,
      timestamp: timeish,
      event: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SENDGRID_KINDS) }, { weight: 1, arbitrary: json }),
      sg_event_id: idish,
      sg_message_id: fc.oneof(
        { weight: 3, arbitrary: fc.string({ maxLength: 30 }).map((s) => `${s}.filterdrecv-1.0`) },
        { weight: 2, arbitrary: idish },
      ),
      type: fc.oneof(fc.constantFrom('bounce', 'blocked'), json),
      reason: fc.oneof(text, json, fc.string({ minLength: 1000, maxLength: 1100 })),
      response: json,
      status: fc.oneof(fc.constantFrom('5.1.1', '4.0.0'), json, fc.string({ minLength: 30, maxLength: 40 })),
      extra: jsonObject,
    },
    { requiredKeys: ['event', 'sg_event_id'] },
  )
  .map(({ extra, ...event }) => ({ ...extra, ...event }));

const twilioForm: fc.Arbitrary<[string, string][]> = fc
  .record(
    {
      MessageSid: fc.oneof(
        {
          weight: 4,
          arbitrary: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => `SM${Buffer.from(a).toString('hex')}`),
        },
        { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
      ),
      MessageStatus: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...TWILIO_STATUSES) },
        { weight: 1, arbitrary: text },
      ),
      ErrorCode: fc.oneof(
        fc.constantFrom('30003', '30008', '21610', '0'),
        text,
        fc.string({ minLength: 40, maxLength: 50 }),
      ),
      ErrorMessage: text,
      AccountSid: text,
      To: text,
      From: text,
      ApiVersion: fc.constant('2010-04-01'),
    },
    { requiredKeys: [] },
  )
  .chain((fields) =>
    fc
      .array(
        fc.tuple(fc.oneof(text, fc.constantFrom('__proto__', 'constructor', 'MessageSid', 'MessageStatus')), text),
        {
          maxLength: 4,
        },
      )
      .map((extra) => [...Object.entries(fields as Record<string, string>), ...extra]),
  );

const webhookReport = fc
  .record(
    {
      eventId: idish,
      messageId: idish,
      status: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('DELIVERED', 'FAILED') },
        { weight: 1, arbitrary: json },
      ),
      reason: fc.oneof(text, json, fc.string({ minLength: 1000, maxLength: 1100 })),
      timestamp: timeish,
      extra: jsonObject,
    },
    { requiredKeys: ['eventId', 'messageId', 'status', 'timestamp'] },
  )
  .map(({ extra, ...report }) => ({ ...extra, ...report }));

const signing: fc.Arbitrary<Signing> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Signing>('valid') },
  { weight: 1, arbitrary: fc.constantFrom<Signing>('forged', 'none', 'stale', 'garbage') },
);

const contentType = (usual: string) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(usual) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/json; charset=latin1',
        'multipart/form-data; boundary=x',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        host: fc.constantFrom('evil.example', 'pigeon.example.test', '127.0.0.1:1'),
        'content-encoding': fc.constantFrom('gzip', 'identity', 'br'),
        'x-forwarded-host': fc.constantFrom('evil.example'),
      },
      { requiredKeys: [] },
    ),
  },
);

const query = fc.oneof(
  { weight: 10, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('a=1', 'x=%ZZ', '__proto__[a]=1', '&&&', 'a=' + 'b'.repeat(300)) },
);

const bodyOr = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 10, arbitrary: arb as fc.Arbitrary<unknown> },
    { weight: 2, arbitrary: malformed as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: anyValue },
  );

/** One hostile callback request. */
export const callbackCase: fc.Arbitrary<CallbackCase> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      target: fc.constant('sendgrid' as const),
      body: bodyOr(fc.array(sendgridEvent, { maxLength: 6 })),
      signing,
      contentType: contentType('application/json'),
      query,
      extraHeaders,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      target: fc.constant('twilio' as const),
      body: fc.oneof(
        { weight: 8, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: malformed as fc.Arbitrary<unknown> },
      ),
      form: twilioForm,
      signing,
      contentType: contentType('application/x-www-form-urlencoded'),
      query,
      extraHeaders,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      target: fc.constant('webhook' as const),
      body: bodyOr(
        fc.oneof(
          { weight: 4, arbitrary: webhookReport },
          { weight: 1, arbitrary: fc.array(webhookReport, { maxLength: 4 }) },
        ),
      ),
      signing,
      contentType: contentType('application/json'),
      query,
      extraHeaders,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      target: fc.constant('unknown' as const),
      hookId: fc.oneof(
        fc.base64String({ minLength: 24, maxLength: 24 }).map((s) => s.replace(/[+/=]/g, '_')),
        fc.string({ minLength: 1, maxLength: 120 }).map(encodeURIComponent),
        fc.constantFrom('..', '%2e%2e', '%00', 'a%2Fb', '__proto__', 'constructor', '%F0%9F%99%82'),
      ),
      body: anyValue,
      signing,
      contentType: contentType('application/json'),
      query,
      extraHeaders,
    }),
  },
);

/** Now, as the value of a generated `now` time. */
const resolveTimes = (value: unknown, unixSeconds: boolean, offsetMs = 0): unknown => {
  const now = Date.now() - offsetMs;
  if (value === 'now') return unixSeconds ? Math.floor(now / 1000) : new Date(now).toISOString();
  if (Array.isArray(value)) return value.map((v) => resolveTimes(v, unixSeconds, offsetMs));
  if (value && typeof value === 'object' && !(value instanceof Raw)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: k === 'timestamp' ? resolveTimes(v, unixSeconds, offsetMs) : v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
};

/** The request of a case: its path, exact body bytes and headers, signed as the case says. */
export function buildRequest(
  hooks: FuzzHooks,
  c: CallbackCase,
): { url: string; payload: Buffer; headers: Record<string, string> } {
  const path =
    c.target === 'unknown'
      ? `/hooks/${c.hookId}`
      : c.target === 'sendgrid'
        ? hooks.sendgrid.path
        : c.target === 'twilio'
          ? hooks.twilio.path
          : hooks.webhook.path;
  const url = `${path}${c.query ? `?${c.query}` : ''}`;
  let payload: Buffer;
  if (c.body instanceof Raw) payload = Buffer.from(c.body.payload);
  else if (c.target === 'twilio' && c.form) payload = Buffer.from(new URLSearchParams(c.form).toString());
  // a stale webhook report is signed with a time an hour ago (SendGrid's time is its header)
  else
    payload = Buffer.from(
      JSON.stringify(
        resolveTimes(c.body, c.target === 'sendgrid', c.signing === 'stale' && c.target === 'webhook' ? 3_600_000 : 0),
      ) ?? 'null',
    );
  const headers: Record<string, string> = { ...c.extraHeaders };
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  const stale = c.signing === 'stale';
  switch (c.target) {
    case 'sendgrid': {
      const ts = String(Math.floor(Date.now() / 1000) - (stale ? 3600 : 0));
      if (c.signing !== 'none') {
        headers['x-twilio-email-event-webhook-timestamp'] = ts;
        headers['x-twilio-email-event-webhook-signature'] =
          c.signing === 'garbage'
            ? 'not base64 at all!'
            : c.signing === 'forged'
              ? sign(
                  'sha256',
                  Buffer.concat([Buffer.from(ts), payload]),
                  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
                ).toString('base64')
              : sign('sha256', Buffer.concat([Buffer.from(ts), payload]), FUZZ_SENDGRID_KEYS.privateKey).toString(
                  'base64',
                );
      }
      break;
    }
    case 'twilio': {
      if (c.signing !== 'none') {
        const form =
          (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded'
            ? new URLSearchParams(payload.toString('utf8'))
            : new URLSearchParams();
        const pairs = [...form.entries()].sort(([a, x], [b, y]) =>
          a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0,
        );
        const signed = `${hooks.publicUrl}${url}${pairs.map(([k, v]) => k + v).join('')}`;
        const token = c.signing === 'forged' ? 'forged-token' : hooks.twilio.authToken;
        headers['x-twilio-signature'] =
          c.signing === 'garbage' ? '\t=' : createHmac('sha1', token).update(signed, 'utf8').digest('base64');
      }
      break;
    }
    default: {
      if (c.signing !== 'none') {
        const secret = c.signing === 'forged' ? 'forged' : hooks.webhook.secret;
        headers['x-pigeon-signature'] =
          c.signing === 'garbage'
            ? 'sha256=zz'
            : `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
      }
    }
  }
  return { url, payload, headers };
}

export interface CallbackFuzzStats {
  cases: number;
  statuses: Record<number, number>;
  /** Events the app answered as stored (`received`), summed. */
  received: number;
}

/**
 * `runs` hostile callback requests, 10 at a time (so group commit runs too). Each must be answered below 500
 * with JSON (`{message, code}` when refused; `{received, duplicates}` when 200). Throws on the first that is not.
 */
export async function fuzzHooks(
  app: FastifyInstance,
  hooks: FuzzHooks,
  runs: number,
  seed?: number,
): Promise<CallbackFuzzStats> {
  const stats: CallbackFuzzStats = { cases: 0, statuses: {}, received: 0 };
  const perRun = Math.min(10, runs);
  const details = await fc.check(
    fc.asyncProperty(fc.array(callbackCase, { minLength: perRun, maxLength: perRun }), async (cases) => {
      await Promise.all(
        cases.map(async (c) => {
          const { url, payload, headers } = buildRequest(hooks, c);
          const res = await app.inject({ method: 'POST', url, headers, payload });
          stats.cases++;
          stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
          const what = () => `${c.target} ${url.slice(0, 80)} (${c.signing}) ${payload.subarray(0, 300).toString()}`;
          if (res.statusCode >= 500)
            throw new Error(`answered ${res.statusCode} ${res.body.slice(0, 300)} to ${what()}`);
          let body: any;
          try {
            body = res.json();
          } catch {
            throw new Error(`answered ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`);
          }
          if (res.statusCode >= 300) {
            if (typeof body?.message !== 'string' || typeof body?.code !== 'string')
              throw new Error(`answered ${res.statusCode} without {message, code}: ${res.body.slice(0, 200)}`);
            return;
          }
          if (!Number.isInteger(body.received) || !Number.isInteger(body.duplicates))
            throw new Error(`answered 200 without {received, duplicates}: ${res.body.slice(0, 200)}`);
          // Twilio sends no time: a "stale" Twilio request is validly signed
          const validlySigned = c.signing === 'valid' || (c.signing === 'stale' && c.target === 'twilio');
          if (!validlySigned || c.target === 'unknown')
            throw new Error(`answered 200 to a request not validly signed: ${what()}`);
          stats.received += body.received;
        }),
      );
    }),
    { numRuns: Math.ceil(runs / perRun), seed, endOnFailure: true },
  );
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${cause}\n(fast-check seed ${details.seed}, path "${details.counterexamplePath}")`);
  }
  return stats;
}
