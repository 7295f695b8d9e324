import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db/database';
import { fromDbTime } from '../../src/db/dialect';
import { OPERATORS } from '../../src/domain/routing/condition';
import { Channel } from '../../src/domain/channel/channel.enum';
import { EventStatus } from '../../src/domain/event-log/event-status.enum';
import { EventType } from '../../src/domain/event-log/event-type.enum';
import { MessageStatus } from '../../src/domain/message/message-status.enum';
import { RoutingAction, RoutingMethod } from '../../src/domain/routing/routing.enums';
import { ApiKeyScope } from '../../src/domain/workspace/api-key-scope.enum';
import { PROVIDERS } from '../../src/plugins/providers';
import { MessageRejection, normalizeMessage } from '../../src/ingest/segment/normalize';
import { SEGMENT_TYPES, type SegmentType } from '../../src/ingest/segment/segment.schemas';

/**
 * Hostile input for the ingest routes and the GraphQL API, as fast-check arbitraries (docs/guarantees.md, section 2:
 * hostile input never breaks the server): malformed JSON, deep nesting, huge strings, wrong types, unicode edge
 * cases, prototype keys, odd content types and credentials. Used with few runs by tests/security/fuzz.test.ts and
 * with 10,000 cases per route by the fault suite (tests/faults/hostile-input.fault.ts).
 */

/** A body sent as these exact bytes (malformed JSON, invalid UTF-8, …). */
export class Raw {
  constructor(readonly payload: string | Buffer) {}
  toString(): string {
    return `Raw(${typeof this.payload === 'string' ? JSON.stringify(this.payload.slice(0, 80)) : `${this.payload.length} bytes`})`;
  }
}

export type Auth = 'basic' | 'bearer' | 'writeKey' | 'none' | { header: string };

export interface IngestCase {
  body: unknown;
  contentType: string | undefined;
  auth: Auth;
}

export interface GraphQLCase {
  query: string;
  variables: Record<string, unknown>;
}

const WEIRD = [
  '',
  ' ',
  '\u0000',
  '\uD800',
  '\uDFFF',
  '\uFEFF',
  '\u202E',
  '\u2028',
  'e\u0301',
  '👩‍👩‍👧‍👦',
  '🙂'.repeat(70),
  'ﷺ',
  '\\',
  '"',
  "'; DROP TABLE inbound_events; --",
  '%_%',
  '{{constructor.constructor "return process"}}',
  '{{#each this}}{{@key}}{{/each}}',
  '${process.env}',
  '__proto__',
  'constructor',
  'null',
  'NaN',
  '-0',
  '1e309',
  '2020-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '0999-12-31T23:59:59Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00.000Z',
  '2020-02-30T00:00:00Z',
  '2020-01-01T00:00:00+25:00',
  'Segment-TrackEvent:',
  'x'.repeat(255),
  'x'.repeat(256),
  'é'.repeat(255),
];

const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  '$where',
  'a.b',
  '$.a',
];

/** Strings: short ASCII, any code point (lone surrogates included), graphemes, known troublemakers, near 255. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 3, arbitrary: fc.constantFrom(...WEIRD) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 250, maxLength: 260 }) },
);

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e308, 2 ** 53) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
);

/** Any JSON value, hostile keys included. */
export const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value;

export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(key, json, { maxKeys: 6 });

/** `{"a":{"a":…}}` or `[[[…]]]`, `depth` levels. */
export function nested(kind: 'object' | 'array', depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'object' ? { a: value } : [value];
  return value;
}

const deep: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.constantFrom('object' as const, 'array' as const),
    fc.oneof(fc.integer({ min: 15, max: 40 }), fc.integer({ min: 40, max: 1000 })),
  )
  .map(([kind, depth]) => nested(kind, depth));

const huge: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('x', 'é', '🙂', '\u0000'), fc.integer({ min: 8_000, max: 300_000 }))
  .map(([c, n]) => c.repeat(n));

/** Any value, now and then a deep or a huge one. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: json },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: huge },
);

const time: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.constantFrom(...WEIRD.filter((w) => /\d/.test(w))) },
  { weight: 1, arbitrary: scalar },
);

const id: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: anyValue },
);

const objectish: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: jsonObject },
  { weight: 1, arbitrary: anyValue },
);

/** A Segment message, often valid, with fields of any type, hostile keys and odd values. */
export const segmentMessage: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      type: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...SEGMENT_TYPES) },
        { weight: 1, arbitrary: fc.constantFrom('Track', 'TRACK', 'batch', 'unknown', '', '__proto__') },
        { weight: 1, arbitrary: scalar },
      ),
      userId: id,
      anonymousId: id,
      messageId: fc.oneof({ weight: 6, arbitrary: fc.uuid() }, { weight: 1, arbitrary: id }),
      event: id,
      name: id,
      groupId: id,
      previousId: id,
      traits: objectish,
      properties: objectish,
      context: objectish,
      integrations: objectish,
      timestamp: time,
      originalTimestamp: time,
      sentAt: time,
    },
    { requiredKeys: ['type', 'messageId'] },
  )
  .chain((message) =>
    // now and then a top-level key such as `__proto__`, as an own property (as JSON.parse makes it)
    fc.option(fc.tuple(fc.constantFrom(...HOSTILE_KEYS), objectish), { freq: 8 }).map((extra) => {
      if (extra)
        Object.defineProperty(message, extra[0], {
          value: extra[1],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return message;
    }),
  );

/** Bytes that are not a JSON object: broken, truncated, deep, huge, not UTF-8. */
export const malformed: fc.Arbitrary<Raw> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => new Raw(s)),
  segmentMessage.chain((m) => {
    const s = JSON.stringify(m);
    return fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((n) => new Raw(s.slice(0, n)));
  }),
  segmentMessage.map((m) => new Raw(`${JSON.stringify(m)} trailing`)),
  segmentMessage.map((m) => new Raw(`\uFEFF${JSON.stringify(m)}`)),
  fc
    .constantFrom(
      '{"a":1,}',
      "{'type':'track'}",
      'NaN',
      '{"a": Infinity}',
      '[1,2',
      '{"__proto__":',
      'null',
      'true',
      '""',
      '[]',
      '{}',
      '{"type":"track","userId":"u","event":"e",}',
      '{"type":"identify","userId":"u"}{"x":1}',
      '{"type":"identify","userId":"u","userId":"v"}',
      '{"type":"identify","userId":"\\ud800"}',
      '/* c */ {"type":"page","userId":"u"}',
    )
    .map((s) => new Raw(s)),
  fc.integer({ min: 1, max: 240_000 }).map((n) => new Raw('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 80_000 }).map((n) => new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc
    .tuple(fc.constantFrom('traits', 'properties', 'context'), fc.integer({ min: 1000, max: 5000 }))
    .map(
      ([field, n]) =>
        new Raw(`{"type":"identify","userId":"u","event":"e","${field}":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
    ),
  fc.uint8Array({ maxLength: 120 }).map((a) => new Raw(Buffer.from(a))),
  fc
    .tuple(fc.constantFrom('identify', 'track'), fc.integer({ min: 500 * 1024 - 100, max: 520 * 1024 }))
    .map(([type, n]) => new Raw(`{"type":"${type}","userId":"u","event":"e","traits":{"x":"${'y'.repeat(n)}"}}`)),
);

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Auth>('basic') },
  { weight: 2, arbitrary: fc.constantFrom<Auth>('bearer', 'writeKey') },
  { weight: 1, arbitrary: fc.constant<Auth>('none') },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
        fc.constantFrom(
          'Basic',
          'Basic ',
          'Basic !!!',
          'Bearer',
          'Basic OjpfOg==',
          'Basic ' + 'A'.repeat(2000),
          'Digest x',
        ),
      )
      .filter((h) => /^[\t\x20-\x7e]*$/.test(h))
      .map((header): Auth => ({ header })),
  },
);

/** One request to a single-message route: mostly messages, sometimes anything else. */
export const singleCase: fc.Arbitrary<IngestCase> = fc.record({
  body: fc.oneof(
    { weight: 10, arbitrary: segmentMessage },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: anyValue },
  ),
  contentType,
  auth,
});

/** One request to /v1/batch. */
export const batchCase: fc.Arbitrary<IngestCase> = fc.record({
  body: fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record(
        {
          batch: fc.oneof(
            {
              weight: 8,
              arbitrary: fc.array(
                fc.oneof({ weight: 6, arbitrary: segmentMessage }, { weight: 1, arbitrary: anyValue }),
                { maxLength: 8 },
              ),
            },
            { weight: 1, arbitrary: anyValue },
          ),
          context: objectish,
          integrations: objectish,
          sentAt: time,
        },
        { requiredKeys: ['batch'] },
      ),
    },
    {
      // the 2,500-item limit: mostly just over it (refused before the database), now and then at it
      weight: 1,
      arbitrary: fc
        .constantFrom(2500, 2501, 2501, 2502, 2502, 2502)
        .map((n) => ({ batch: Array.from({ length: n }, () => ({ type: 'page', userId: 'u' })) })),
    },
    { weight: 2, arbitrary: malformed },
    { weight: 1, arbitrary: anyValue },
  ),
  contentType,
  auth,
});

/** Sends one case with `key` where the case says so; `writeKey` goes into the body when it is an object. */
export function injectIngest(app: FastifyInstance, route: string, c: IngestCase, key: string) {
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.auth === 'basic') headers.authorization = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
  else if (c.auth === 'bearer') headers.authorization = `Bearer ${key}`;
  else if (typeof c.auth === 'object') headers.authorization = c.auth.header;
  let payload: string | Buffer;
  if (c.body instanceof Raw) payload = c.body.payload;
  else {
    const body =
      c.auth === 'writeKey' && typeof c.body === 'object' && c.body !== null && !Array.isArray(c.body)
        ? { ...c.body, writeKey: key }
        : c.body;
    payload = JSON.stringify(body) ?? 'undefined';
  }
  return app.inject({ method: 'POST', url: route, headers, payload });
}

// ---- GraphQL ------------------------------------------------------------------------------------

const enumish = (values: string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: scalar });
/** A GraphQL enum's values: the keys of the TypeScript enum that type-graphql registered. */
const enumValues = (e: Record<string, string>): string[] => Object.keys(e);
// Every list is read from its source, so a new channel, status or operator is fuzzed without editing this file.
const CHANNELS = enumValues(Channel);
const EVENT_TYPES = enumValues(EventType);
const EVENT_STATUSES = enumValues(EventStatus);
const MESSAGE_STATUSES = enumValues(MessageStatus);
const ROUTING_ACTIONS = enumValues(RoutingAction);
const ROUTING_METHODS = enumValues(RoutingMethod);
const API_KEY_SCOPES = enumValues(ApiKeyScope);
const OPS: string[] = [...OPERATORS];
const PROVIDER_SLUGS = PROVIDERS.map((p) => p.slug);
const first = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 500 }) },
  { weight: 1, arbitrary: scalar },
  { weight: 1, arbitrary: fc.integer() },
);
const cursor = fc.oneof(
  text,
  fc.base64String({ maxLength: 40 }),
  fc.json().map((j) => Buffer.from(j).toString('base64url')),
);

const condition: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({
      path: fc.oneof(
        fc.constantFrom('data.amount', 'profile.plan', 'event.name', 'profile.__proto__.x', 'data.constructor'),
        text,
      ),
      op: enumish(OPS),
      value: json,
    }),
    fc.record({ all: fc.oneof(fc.array(tie('node'), { maxLength: 3 }), anyValue) }),
    fc.record({ any: fc.array(tie('node'), { maxLength: 3 }) }),
    fc.record({ not: tie('node') }),
    anyValue,
  ),
})).node;

const handlebars = fc.oneof(
  text,
  fc.constantFrom(
    '{{data.x}}',
    '{{{data.x}}}',
    '{{#if data.a}}yes{{else}}no{{/if}}',
    '{{#each data}}{{@key}}={{this}}{{/each}}',
    '{{> partial}}',
    '{{constructor}}',
    '{{data.constructor.constructor}}',
    '{{lookup data "__proto__"}}',
    '{{#with (lookup this "constructor")}}{{name}}{{/with}}',
    '{{',
    '{{#if}}',
    '{{/if}}',
    '{{data.' + 'a.'.repeat(200) + 'b}}',
  ),
);

const content = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      { sms: fc.record({ body: handlebars }), webhook: fc.record({ body: handlebars }, { requiredKeys: [] }) },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      email: fc.record({ subject: handlebars, html: handlebars, text: handlebars }, { requiredKeys: [] }),
    }),
  },
  { weight: 1, arbitrary: objectish },
);

/** GraphQL operations with hostile variables (and, now and then, hostile query text). */
export const graphqlCase: fc.Arbitrary<GraphQLCase> = fc.oneof(
  fc.record({ u: id, t: objectish }).map((v) => ({
    query: 'mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { userId traits } }',
    variables: v,
  })),
  fc.record({ u: id, t: objectish }).map((v) => ({
    query: 'mutation($u: String!, $t: JSONObject!) { replaceProfile(userId: $u, traits: $t) { userId traits } }',
    variables: v,
  })),
  fc.record({ u: id }).map((v) => ({
    query: 'query($u: String!) { profile(userId: $u) { userId traits anonymousIds groups { groupId } } }',
    variables: v,
  })),
  fc.record({ u: id }).map((v) => ({ query: 'mutation($u: String!) { deleteProfile(userId: $u) }', variables: v })),
  fc.record({ f: first, a: cursor, s: text, tr: text, eq: json }, { requiredKeys: [] }).map((v) => ({
    query:
      'query($f: Int, $a: String, $s: String, $tr: String, $eq: JSON) { profiles(first: $f, after: $a, filter: {search: $s, trait: $tr, equals: $eq}) { edges { cursor node { userId } } pageInfo { endCursor } } }',
    variables: v,
  })),
  fc
    .record(
      {
        f: first,
        a: cursor,
        filter: fc.record(
          {
            type: enumish(EVENT_TYPES),
            status: enumish(EVENT_STATUSES),
            name: text,
            userId: id,
            since: time,
            until: time,
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => ({
      query:
        'query($f: Int, $a: String, $filter: EventFilter) { events(first: $f, after: $a, filter: $filter) { edges { node { id name payload } } } }',
      variables: v,
    })),
  fc
    .record(
      {
        f: first,
        a: cursor,
        filter: fc.record(
          {
            status: enumish(MESSAGE_STATUSES),
            userId: id,
            templateId: id,
            eventName: text,
            since: time,
            until: time,
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => ({
      query:
        'query($f: Int, $a: String, $filter: MessageFilter) { messages(first: $f, after: $a, filter: $filter) { edges { node { id status } } } }',
      variables: v,
    })),
  fc.record({ id }).map((v) => ({
    query: 'query($id: ID!) { event(id: $id) { id } message(id: $id) { id } template(id: $id) { id } }',
    variables: v,
  })),
  fc.record({ g: id, f: first }).map((v) => ({
    query:
      'query($g: String!, $f: Int) { group(groupId: $g) { groupId members(first: $f) { edges { node { userId } } } } }',
    variables: v,
  })),
  fc
    .record({
      key: id,
      name: text,
      channels: fc.oneof(fc.array(enumish(CHANNELS), { maxLength: 3 }), anyValue),
      content,
    })
    .map((i) => ({
      query: 'mutation($i: TemplateInput!) { createTemplate(input: $i) { id key draft } }',
      variables: { i },
    })),
  fc
    .record({ id, key: id })
    .map((v) => ({ query: 'mutation($id: ID!) { publishTemplate(id: $id) { id } }', variables: v })),
  fc.record({ c: content, d: objectish, u: id, t: id }, { requiredKeys: [] }).map((v) => ({
    query:
      'query($c: JSONObject, $d: JSONObject, $u: String, $t: ID) { previewTemplate(content: $c, data: $d, userId: $u, templateId: $t) { rendered missingVariables } }',
    variables: v,
  })),
  fc
    .record(
      {
        name: text,
        priority: fc.oneof(fc.integer({ min: -5, max: 5 }), scalar),
        when: condition,
        action: enumish(ROUTING_ACTIONS),
        method: enumish(ROUTING_METHODS),
        channels: fc.array(enumish(CHANNELS), { maxLength: 3 }),
        templateId: id,
      },
      { requiredKeys: ['name', 'priority', 'action'] },
    )
    .map((i) => ({
      query: 'mutation($i: RoutingRuleInput!) { createRoutingRule(input: $i) { id when } }',
      variables: { i },
    })),
  fc
    .record(
      {
        channel: enumish(CHANNELS),
        provider: fc.oneof(fc.constantFrom(...PROVIDER_SLUGS), text),
        config: objectish,
        priority: fc.oneof(fc.integer(), scalar),
        enabled: fc.oneof(fc.boolean(), scalar),
      },
      { requiredKeys: ['channel', 'provider', 'config'] },
    )
    .map((i) => ({
      query: 'mutation($i: ProviderConfigInput!) { configureProvider(input: $i) { id config } }',
      variables: { i },
    })),
  fc
    .record(
      { userId: id, templateKey: id, templateId: id, data: objectish, idempotencyKey: id },
      { requiredKeys: ['userId'] },
    )
    .map((i) => ({
      query: 'mutation($i: SendInput!) { send(input: $i) { id status data } }',
      variables: { i },
    })),
  fc.record({ n: text, t: id }).map((v) => ({
    query: 'mutation($n: String!, $t: ID!) { mapEvent(eventName: $n, templateId: $t) { eventName } }',
    variables: v,
  })),
  fc
    .record({
      f: fc.record({ name: text, userId: id, type: enumish([EventType.TRACK]), since: time }, { requiredKeys: [] }),
    })
    .map((v) => ({ query: 'mutation($f: EventFilter!) { replayEvents(filter: $f) }', variables: v })),
  fc.record({ s: enumish(API_KEY_SCOPES), n: text }).map((v) => ({
    query: 'mutation($s: ApiKeyScope!, $n: String) { createApiKey(scope: $s, name: $n) { apiKey { id } } }',
    variables: v,
  })),
  fc.record({ id }).map((v) => ({
    query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id } deleteRoutingRule(id: $id) deleteProvider(id: $id) }',
    variables: v,
  })),
  text.map((query) => ({ query, variables: {} })),
  fc.record({ t: json }).map((v) => ({
    query: `mutation { mergeProfile(userId: "literal", traits: ${literal(v.t)}) { userId } }`,
    variables: {},
  })),
);

/** A JSON value as a GraphQL literal (objects with any keys can't be written: those become strings). */
function literal(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([k]) =>
      /^[_A-Za-z][_0-9A-Za-z]*$/.test(k),
    );
    return `{${entries.map(([k, v]) => `${k}: ${literal(v)}`).join(', ')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return '0';
  return JSON.stringify(value);
}

export function injectGraphQL(app: FastifyInstance, c: GraphQLCase, key: string) {
  return app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    payload: JSON.stringify({ query: c.query, variables: c.variables }),
  });
}

// ---- running and checking ----------------------------------------------------------------------

export interface FuzzStats {
  cases: number;
  statuses: Record<number, number>;
  /** messageIds the app answered 2xx for (where the caller knows the id). */
  acknowledged: Set<string>;
}

/**
 * Runs a property; on failure throws the failing case's own message (the generated values can be
 * megabytes, so they are not printed whole) with the seed to replay it.
 */
async function check<T>(property: fc.IAsyncProperty<T>, numRuns: number, seed?: number): Promise<void> {
  const details = await fc.check(property, { numRuns, seed, endOnFailure: true });
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${cause}\n(fast-check seed ${details.seed}, path "${details.counterexamplePath}")`);
  }
}

/** The messageId as stored: trailing spaces are dropped at ingest (normalize.ts). */
const storedId = (id: string) => id.replace(/ +$/, '');

function describeCase(c: unknown): string {
  const text = JSON.stringify(c, (_k, v) =>
    v instanceof Raw ? v.toString() : typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v,
  );
  return (text ?? String(c)).slice(0, 2000);
}

/**
 * `runs` hostile requests to one ingest route (10 at a time, so group commit is exercised too).
 * Each must be answered below 500 with JSON (`{message, code}` when refused). Throws on the first that is not.
 */
export async function fuzzIngestRoute(
  app: FastifyInstance,
  route: string,
  key: string,
  runs: number,
  seed?: number,
): Promise<FuzzStats> {
  const stats: FuzzStats = { cases: 0, statuses: {}, acknowledged: new Set() };
  const arb = route === '/v1/batch' ? batchCase : singleCase;
  const perRun = Math.min(10, runs);
  await check(
    fc.asyncProperty(fc.array(arb, { minLength: perRun, maxLength: perRun }), async (cases) => {
      await Promise.all(
        cases.map(async (c) => {
          const res = await injectIngest(app, route, c, key);
          stats.cases++;
          stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
          // 501 is the documented answer to an unknown type (README.md, "Limits and errors"); a batch lists it as rejected
          const unsupportedType =
            res.statusCode === 501 && route !== '/v1/batch' && res.json().code === 'UNSUPPORTED_EVENT_TYPE';
          if (res.statusCode >= 500 && !unsupportedType)
            throw new Error(`${route} answered ${res.statusCode} ${res.body.slice(0, 300)} to ${describeCase(c)}`);
          let body: any;
          try {
            body = res.json();
          } catch {
            throw new Error(
              `${route} answered ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`,
            );
          }
          if (res.statusCode >= 300) {
            if (typeof body?.message !== 'string' || typeof body?.code !== 'string')
              throw new Error(`${route} answered ${res.statusCode} without {message, code}: ${res.body.slice(0, 200)}`);
            return;
          }
          const sent = c.body instanceof Raw ? undefined : (c.body as any);
          if (route === '/v1/batch') {
            const rejected = new Set((body.rejected ?? []).map((r: { index: number }) => r.index));
            (sent.batch as any[]).forEach((item, i) => {
              if (!rejected.has(i) && typeof item?.messageId === 'string')
                stats.acknowledged.add(storedId(item.messageId));
            });
          } else if (typeof body.messageId === 'string') {
            stats.acknowledged.add(body.messageId);
          } else if (typeof sent?.messageId === 'string') {
            stats.acknowledged.add(storedId(sent.messageId));
          }
        }),
      );
    }),
    Math.ceil(runs / perRun),
    seed,
  );
  return stats;
}

/** `runs` hostile GraphQL requests: never a 5xx, never INTERNAL_SERVER_ERROR. */
export async function fuzzGraphQL(app: FastifyInstance, key: string, runs: number, seed?: number): Promise<FuzzStats> {
  const stats: FuzzStats = { cases: 0, statuses: {}, acknowledged: new Set() };
  const perRun = Math.min(10, runs);
  await check(
    fc.asyncProperty(fc.array(graphqlCase, { minLength: perRun, maxLength: perRun }), async (cases) => {
      await Promise.all(
        cases.map(async (c) => {
          const res = await injectGraphQL(app, c, key);
          stats.cases++;
          stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
          const body = res.json();
          const internal = (body.errors ?? []).filter((e: any) => e.extensions?.code === 'INTERNAL_SERVER_ERROR');
          if (res.statusCode >= 500 || internal.length)
            throw new Error(
              `/graphql answered ${res.statusCode} ${JSON.stringify(body.errors).slice(0, 600)} to ${describeCase(c)}`,
            );
        }),
      );
    }),
    Math.ceil(runs / perRun),
    seed,
  );
  return stats;
}

/**
 * What is wrong with the events stored in a workspace: each must still pass the ingest validation
 * (re-normalised with its stored type), have the identity its type needs, the right log name for a
 * track, and a readable timestamp. Also lists acknowledged messageIds that are not stored.
 */
export async function storedEventProblems(
  db: Database,
  workspaceId: number,
  acknowledged: Iterable<string> = [],
): Promise<{ stored: number; problems: string[] }> {
  const rows = await db.rows<Record<string, any>>(
    'SELECT id, message_id, type, name, user_id, anonymous_id, payload, timestamp FROM inbound_events WHERE workspace_id = ?',
    [workspaceId],
  );
  const problems: string[] = [];
  const stored = new Set<string>();
  for (const row of rows) {
    stored.add(row.message_id);
    const where = `event ${row.id} (${row.type} ${String(row.message_id).slice(0, 40)})`;
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    const type = String(row.type).toLowerCase() as SegmentType;
    const again = normalizeMessage(payload, new Date(), { forcedType: type });
    if (again instanceof MessageRejection) problems.push(`${where}: ${again.message}`);
    if (type === 'alias' ? !row.user_id : !row.user_id && !row.anonymous_id) problems.push(`${where}: no identity`);
    if (type === 'track' && row.name !== `Segment-TrackEvent:${payload.event}`)
      problems.push(`${where}: name ${row.name}`);
    const year = fromDbTime(row.timestamp).getUTCFullYear();
    if (!(year >= 1000 && year <= 9999)) problems.push(`${where}: timestamp ${String(row.timestamp)}`);
  }
  for (const id of acknowledged) if (!stored.has(id)) problems.push(`acknowledged ${id} is not stored`);
  return { stored: rows.length, problems };
}
