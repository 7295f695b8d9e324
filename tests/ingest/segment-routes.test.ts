import { createApp } from '../../src/app';
import { openDatabase } from '../../src/open-database';
import { createServices } from '../../src/services';
import { basic, fixture, isMysql, startTestApp, uid, type TestApp } from '../helpers/test-app';

const EVENTS_QUERY = `query($filter: EventFilter, $first: Int) {
  events(first: $first, filter: $filter) { edges { node { id messageId type name userId anonymousId status payload timestamp receivedAt } } }
}`;

describe('Segment ingest routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  async function eventsOf(userId: string) {
    const res = await t.gql(EVENTS_QUERY, { filter: { userId }, first: 100 });
    expect(res.errors).toBeUndefined();
    return res.data!.events.edges.map((e: any) => e.node);
  }

  describe('authentication forms', () => {
    const routes = ['/segment', '/inbound/segment', '/v1/track', '/v1/batch'];
    const bodyFor = (route: string, userId: string, writeKey?: string) => {
      const msg = { type: 'track', event: 'Auth Checked', userId, messageId: uid('m') };
      const body: Record<string, unknown> = route === '/v1/batch' ? { batch: [msg] } : msg;
      if (writeKey) body.writeKey = writeKey;
      return body;
    };
    const forms: [string, (key: string) => { headers: Record<string, string>; writeKey?: string }][] = [
      ['Basic', (key) => ({ headers: { authorization: basic(key) } })],
      ['Bearer', (key) => ({ headers: { authorization: `Bearer ${key}` } })],
      ['writeKey', (key) => ({ headers: {}, writeKey: key })],
    ];

    for (const route of routes) {
      for (const [form, make] of forms) {
        it(`${route} accepts the ingest key as ${form}`, async () => {
          const userId = uid();
          const { headers, writeKey } = make(t.ws.ingestKey);
          const res = await t.inject({
            method: 'POST',
            url: route,
            headers: { 'content-type': 'application/json', ...headers },
            payload: JSON.stringify(bodyFor(route, userId, writeKey)),
          });
          expect(res.statusCode).toBe(route.endsWith('segment') ? 202 : 200);
          const events = await eventsOf(userId);
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({
            type: 'TRACK',
            name: 'Segment-TrackEvent:Auth Checked',
            status: 'UNMAPPED',
          });
        });
      }
    }

    it('accepts an admin key too', async () => {
      const res = await t.send('/segment', fixture('track', { userId: uid() }), t.ws.adminKey);
      expect(res.statusCode).toBe(202);
    });

    it('401 without any key, with an unknown key, or with an unreadable Authorization header', async () => {
      const body = JSON.stringify(fixture('track'));
      for (const headers of [
        {},
        { authorization: basic('pgn_i_not-a-real-key') },
        { authorization: 'Bearer nope' },
        { authorization: 'Digest abc' },
        { authorization: `Basic ${Buffer.from(':').toString('base64')}` },
      ]) {
        const res = await t.inject({
          method: 'POST',
          url: '/segment',
          headers: { 'content-type': 'application/json', ...headers },
          payload: body,
        });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.any(String) });
      }
      const wrongWriteKey = await t.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ batch: [fixture('track')], writeKey: 'wk_example' }),
      });
      expect(wrongWriteKey.statusCode).toBe(401);
    });

    it('403 with a revoked key, on every route', async () => {
      const ws = await t.newWorkspace();
      const created = await t.gql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
        'mutation { createApiKey(scope: INGEST, name: "temp") { apiKey { id } secret } }',
        {},
        ws.adminKey,
      );
      const { secret, apiKey } = created.data!.createApiKey;
      expect((await t.send('/segment', fixture('track', { userId: uid() }), secret)).statusCode).toBe(202);
      const revoked = await t.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`, {}, ws.adminKey);
      expect(revoked.data!.revokeApiKey.revokedAt).toEqual(expect.any(String));
      for (const route of ['/segment', '/inbound/segment', '/v1/identify', '/v1/batch']) {
        const res = await t.send(
          route,
          route === '/v1/batch' ? { batch: [fixture('track')] } : fixture('identify'),
          secret,
        );
        expect(res.statusCode).toBe(403);
        expect(res.json()).toEqual({ code: 'FORBIDDEN', message: 'This API key has been revoked' });
      }
    });

    it('answers a bad key before a bad body, on every route', async () => {
      const ws = await t.newWorkspace();
      const created = await t.gql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
        'mutation { createApiKey(scope: INGEST) { apiKey { id } secret } }',
        {},
        ws.adminKey,
      );
      const { secret: revokedKey, apiKey } = created.data!.createApiKey;
      await t.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`, {}, ws.adminKey);
      const badBodies: [string, unknown][] = [
        ['/segment', { type: 'track', userId: 'u1' }], // a track without its event
        ['/v1/identify', { traits: {} }], // neither userId nor anonymousId
        ['/v1/batch', { batch: 'not an array' }],
        ['/v1/batch', { batch: Array.from({ length: 2501 }, () => ({})) }],
      ];
      for (const [route, body] of badBodies) {
        expect((await t.send(route, body, 'pgn_i_not-a-real-key')).statusCode).toBe(401);
        expect((await t.send(route, body, revokedKey)).statusCode).toBe(403);
        expect((await t.send(route, body, ws.ingestKey)).statusCode).toBe(
          route === '/v1/batch' && Array.isArray((body as any).batch) ? 413 : 400,
        );
      }
      // a batch whose every message is invalid stores nothing, but its key is still checked
      const allInvalid = { batch: [{ type: 'track', userId: 'u1' }] };
      expect((await t.send('/v1/batch', allInvalid, 'pgn_i_not-a-real-key')).statusCode).toBe(401);
      expect((await t.send('/v1/batch', allInvalid, revokedKey)).statusCode).toBe(403);
      const accepted = await t.send('/v1/batch', allInvalid, ws.ingestKey);
      expect(accepted.statusCode).toBe(200);
      expect(accepted.json()).toEqual({ success: true, rejected: [{ index: 0, message: expect.any(String) }] });
    });

    it('requests with good and refused keys that commit together each get their own answer and workspace', async () => {
      // the key is checked in the transaction that stores the events: concurrent requests share that
      // transaction (group commit), so one refused key must neither fail the others nor mix up workspaces
      const [wsA, wsB] = [await t.newWorkspace(), await t.newWorkspace()];
      const created = await t.gql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
        'mutation { createApiKey(scope: INGEST) { apiKey { id } secret } }',
        {},
        wsB.adminKey,
      );
      const { secret: revokedKey, apiKey } = created.data!.createApiKey;
      await t.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { revokedAt } }`, {}, wsB.adminKey);
      const user = uid();
      const calls = Array.from({ length: 40 }, (_, i) => {
        const [key, expected] = (
          [
            [wsA.ingestKey, 202],
            [wsB.ingestKey, 202],
            ['pgn_i_' + 'x'.repeat(40), 401],
            [revokedKey, 403],
            [wsA.adminKey, 202],
          ] as const
        )[i % 5];
        const route = i % 2 ? '/segment' : '/v1/batch';
        const msg = fixture('track', { userId: user, messageId: `${user}-${i}`, event: `Mixed ${i}` });
        return { key, expected: route === '/v1/batch' && expected === 202 ? 200 : expected, route, msg };
      });
      const answers = await Promise.all(
        calls.map((c) => t.send(c.route, c.route === '/v1/batch' ? { batch: [c.msg] } : c.msg, c.key)),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(calls.map((c) => c.expected));
      const stored = async (adminKey: string) => {
        const res = await t.gql(EVENTS_QUERY, { filter: { userId: user }, first: 100 }, adminKey);
        return res.data!.events.edges.map((e: any) => e.node.messageId).sort();
      };
      const expectedIn = (keys: string[]) =>
        calls
          .filter((c) => keys.includes(c.key))
          .map((c) => c.msg.messageId)
          .sort();
      expect(await stored(wsA.adminKey)).toEqual(expectedIn([wsA.ingestKey, wsA.adminKey]));
      expect(await stored(wsB.adminKey)).toEqual(expectedIn([wsB.ingestKey]));
    });
  });

  describe('POST /segment', () => {
    it('answers 202 with the messageId once stored, and stores the message as received', async () => {
      const msg = fixture('track', { userId: uid() });
      const res = await t.send('/segment', msg);
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ messageId: msg.messageId });
      const [event] = await eventsOf(msg.userId);
      expect(event).toMatchObject({ messageId: msg.messageId, userId: msg.userId, status: 'UNMAPPED' });
      expect(event.payload.properties).toEqual(msg.properties);
      expect(event.payload.context).toEqual(msg.context);
    });

    it('generates a messageId when the message has none', async () => {
      const msg = fixture('track', { userId: uid() });
      delete msg.messageId;
      const res = await t.send('/segment', msg);
      expect(res.statusCode).toBe(202);
      const { messageId } = res.json();
      expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
      const [event] = await eventsOf(msg.userId);
      expect(event.messageId).toBe(messageId);
    });

    it('de-duplicates a retried messageId: same 202, applied once', async () => {
      const userId = uid();
      const msg = fixture('identify', { userId, anonymousId: undefined, traits: { plan: 'pro', logins: 1 } });
      const first = await t.send('/segment', msg);
      const again = await t.send('/segment', { ...msg, traits: { plan: 'free' } });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual(first.json());
      expect(await eventsOf(userId)).toHaveLength(1);
      const profile = await t.gql(`{ profile(userId: "${userId}") { traits } }`);
      expect(profile.data!.profile.traits).toEqual({ plan: 'pro', logins: 1 });
    });

    it('keeps messageIds per workspace: the same id in another workspace is another event', async () => {
      const other = await t.newWorkspace();
      const userId = uid();
      const msg = fixture('track', { userId });
      expect((await t.send('/segment', msg)).statusCode).toBe(202);
      expect((await t.send('/segment', msg, other.ingestKey)).statusCode).toBe(202);
      const theirs = await t.gql(EVENTS_QUERY, { filter: { userId } }, other.adminKey);
      expect(theirs.data!.events.edges).toHaveLength(1);
      expect(await eventsOf(userId)).toHaveLength(1);
    });

    it('treats messageIds as case-sensitive', async () => {
      const userId = uid();
      const id = uid('Msg');
      await t.send('/segment', fixture('track', { userId, messageId: id }));
      await t.send('/segment', fixture('track', { userId, messageId: id.toLowerCase() }));
      expect(await eventsOf(userId)).toHaveLength(2);
    });

    it('501 for an unknown type, 400 without a type', async () => {
      const unknown = await t.send('/segment', { type: 'purchase', userId: 'u1' });
      expect(unknown.statusCode).toBe(501);
      expect(unknown.json()).toEqual({ message: 'Event Type Unsupported: purchase', code: 'UNSUPPORTED_EVENT_TYPE' });
      const missing = await t.send('/segment', { userId: 'u1', event: 'x' });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({ message: 'type is required', code: 'INVALID_EVENT' });
    });

    it.each([
      [{ type: 'track', userId: 'u1' }, 'track requires event'],
      [{ type: 'track', event: 'x' }, 'track requires userId or anonymousId'],
      [{ type: 'track', event: 'x', userId: null, anonymousId: null }, 'track requires userId or anonymousId'],
      [{ type: 'group', userId: 'u1' }, 'group requires groupId'],
      [{ type: 'alias', userId: 'u1' }, 'alias requires previousId'],
      [{ type: 'alias', previousId: 'a1' }, 'alias requires userId'],
      [{ type: 'identify', userId: 'u1', traits: ['a'] }, 'identify traits must be an object'],
      [{ type: 'group', userId: 'u1', groupId: 'g', traits: 'x' }, 'group traits must be an object'],
      [
        { type: 'track', userId: 'u1', event: 'x', timestamp: 'yesterday' },
        'timestamp must be an ISO-8601 date-time, e.g. 2026-11-20T18:41:29.093Z',
      ],
      [
        { type: 'track', userId: 'u1', event: 'x', timestamp: '2026-13-45T99:00:00Z' },
        'timestamp must be an ISO-8601 date-time, e.g. 2026-11-20T18:41:29.093Z',
      ],
      [
        { type: 'track', userId: '', event: 'x' },
        'userId must be a non-empty string (or number) of at most 255 characters',
      ],
      [{ type: 'track', userId: 'u1', event: '' }, 'track event must be a non-empty string of at most 236 characters'],
      [{ type: 'track', userId: 'u1', event: 'x', properties: 5 }, 'track properties must be an object'],
      [{ type: 'track', userId: 'u1', event: 'x', context: [] }, 'context must be an object'],
      [[{ type: 'track' }], 'a message must be a JSON object'],
    ])('400 for an invalid message %j', async (body, message) => {
      const res = await t.send('/segment', body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ message, code: 'INVALID_EVENT' });
    });

    it('400 for malformed JSON or an empty body, 415 for a non-JSON content type', async () => {
      for (const payload of ['{"type": "track",', '', 'NaN', "{'a': 1}"]) {
        const res = await t.inject({
          method: 'POST',
          url: '/segment',
          headers: { 'content-type': 'application/json', authorization: basic(t.ws.ingestKey) },
          payload,
        });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON', message: expect.any(String) });
      }
      const form = await t.inject({
        method: 'POST',
        url: '/segment',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(t.ws.ingestKey) },
        payload: 'a=1',
      });
      expect(form.statusCode).toBe(415);
      expect(form.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('accepts JSON sent as text/plain (as beacon-style clients do)', async () => {
      const msg = fixture('track', { userId: uid() });
      const res = await t.inject({
        method: 'POST',
        url: '/segment',
        headers: { 'content-type': 'text/plain', authorization: basic(t.ws.ingestKey) },
        payload: JSON.stringify(msg),
      });
      expect(res.statusCode).toBe(202);
    });

    it('413 for a message over 32 KB and a request over 500 KB, storing nothing', async () => {
      const userId = uid();
      const big = fixture('track', { userId, properties: { blob: 'x'.repeat(33 * 1024) } });
      const res = await t.send('/segment', big);
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('32 KB') });
      const huge = await t.send('/v1/batch', {
        batch: Array.from({ length: 20 }, () =>
          fixture('track', { userId, properties: { blob: 'y'.repeat(30 * 1024) } }),
        ),
      });
      expect(huge.statusCode).toBe(413);
      expect(huge.json()).toEqual({ message: 'The request body is over 500 KB', code: 'PAYLOAD_TOO_LARGE' });
      expect(await eventsOf(userId)).toHaveLength(0);
    });

    it('corrects client clock skew with sentAt, and uses the receive time without a timestamp', async () => {
      const userId = uid();
      // the client clock runs one hour behind: it says it sent the event 2 s after it happened
      const sentAt = new Date(Date.now() - 3600_000);
      const original = new Date(sentAt.getTime() - 2000);
      const before = Date.now();
      await t.send(
        '/segment',
        fixture('track', { userId, event: 'Skewed', timestamp: original.toISOString(), sentAt: sentAt.toISOString() }),
      );
      await t.send('/segment', { type: 'track', userId, event: 'No Time', messageId: uid('m') });
      await t.send('/segment', {
        type: 'track',
        userId,
        event: 'Exact',
        messageId: uid('m'),
        timestamp: '2020-01-02T03:04:05.678Z',
      });
      const after = Date.now();
      const events = await eventsOf(userId);
      const byName = Object.fromEntries(events.map((e: any) => [e.name, e]));
      const skewed = Date.parse(byName['Segment-TrackEvent:Skewed'].timestamp);
      const received = Date.parse(byName['Segment-TrackEvent:Skewed'].receivedAt);
      expect(received - skewed).toBe(2000);
      expect(received).toBeGreaterThanOrEqual(before - 5);
      expect(received).toBeLessThanOrEqual(after + 5);
      expect(byName['Segment-TrackEvent:No Time'].timestamp).toBe(byName['Segment-TrackEvent:No Time'].receivedAt);
      expect(byName['Segment-TrackEvent:Exact'].timestamp).toBe('2020-01-02T03:04:05.678Z');
    });

    it('stores keys like __proto__ as plain data', async () => {
      const userId = uid();
      const payload = `{"type":"identify","userId":"${userId}","messageId":"${uid('m')}","traits":{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"name":"Eve"}}`;
      const res = await t.inject({
        method: 'POST',
        url: '/segment',
        headers: { 'content-type': 'application/json', authorization: basic(t.ws.ingestKey) },
        payload,
      });
      expect(res.statusCode).toBe(202);
      expect(({} as any).admin).toBeUndefined();
      const profile = await t.gql(`{ profile(userId: "${userId}") { traits } }`);
      expect(JSON.stringify(profile.data!.profile.traits)).toContain('"__proto__":{"admin":true}');
      expect(profile.data!.profile.traits.name).toBe('Eve');
    });
  });

  describe('group commit', () => {
    it('200 concurrent requests, some repeating a messageId, are each answered once stored, each event stored once', async () => {
      const userId = uid();
      const ids = Array.from({ length: 150 }, (_, i) => `${userId}-${i}`);
      const bodies = [...ids, ...ids.slice(0, 50)].map((messageId, i) => ({
        type: 'track',
        userId,
        event: `G${i % 3}`,
        messageId,
      }));
      const results = await Promise.all(bodies.map((b) => t.send('/segment', b)));
      expect(results.map((r) => r.statusCode)).toEqual(Array(200).fill(202));
      expect(results.map((r) => r.json().messageId)).toEqual(bodies.map((b) => b.messageId));
      const [{ n }] = await t.db.rows<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM inbound_events WHERE workspace_id = ? AND user_id = ?',
        [t.ws.workspaceId, userId],
      );
      expect(Number(n)).toBe(150);
      const names = await t.gql('{ eventNames { name count } }');
      const counted = names
        .data!.eventNames.filter((e: any) => /:G[012]$/.test(e.name))
        .reduce((a: number, e: any) => a + e.count, 0);
      expect(counted).toBeGreaterThanOrEqual(150);
    });

    it('requests of different workspaces committed together land in their own workspaces', async () => {
      const other = await t.newWorkspace();
      const userId = uid();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          t.send(
            '/segment',
            { type: 'identify', userId, traits: { [`k${i}`]: i }, messageId: `${userId}-${i}` },
            i % 2 ? other.ingestKey : t.ws.ingestKey,
          ),
        ),
      );
      expect(results.every((r) => r.statusCode === 202)).toBe(true);
      const mine = await t.gql(`{ profile(userId: "${userId}") { traits } }`);
      const theirs = await t.gql(`{ profile(userId: "${userId}") { traits } }`, {}, other.adminKey);
      expect(Object.keys(mine.data!.profile.traits)).toHaveLength(20);
      expect(Object.keys(theirs.data!.profile.traits)).toHaveLength(20);
      expect(mine.data!.profile.traits.k0).toBe(0);
      expect(theirs.data!.profile.traits.k1).toBe(1);
    });
  });

  describe('POST /v1/<type>', () => {
    it.each(['identify', 'track', 'group', 'page', 'screen', 'alias'])(
      '/v1/%s answers {"success": true} and the route decides the type',
      async (type) => {
        const userId = uid();
        const body: Record<string, unknown> = {
          type: 'page',
          userId,
          messageId: uid('m'),
          event: 'Route Typed',
          groupId: 'g-1',
          previousId: uid('prev'),
          name: 'Home',
        };
        const res = await t.send(`/v1/${type}`, body);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ success: true });
        const [event] = await eventsOf(userId);
        expect(event.type).toBe(type.toUpperCase());
        expect(event.status).toBe(type === 'track' ? 'UNMAPPED' : 'PROCESSED');
      },
    );

    it('400 with the reason for an invalid message', async () => {
      const res = await t.send('/v1/track', { userId: 'u1' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ message: 'track requires event', code: 'INVALID_EVENT' });
    });

    it('404 for a route that is not a Segment type', async () => {
      const res = await t.send('/v1/purchase', { userId: 'u1' });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    });
  });

  describe('POST /v1/batch', () => {
    it('stores valid items, lists rejected ones with their index and reason', async () => {
      const userId = uid();
      const batch = [
        fixture('identify', { userId, anonymousId: undefined }),
        { type: 'track', userId, messageId: uid('m') },
        fixture('track', { userId }),
        { type: 'purchase', userId, messageId: uid('m') },
        fixture('track', { userId, properties: { blob: 'z'.repeat(33 * 1024) } }),
        'not an object',
        fixture('page', { userId, anonymousId: undefined }),
        { type: 'track', userId, event: 'Bad Time', timestamp: 'soon' },
      ];
      const res = await t.send('/v1/batch', { batch });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        success: true,
        rejected: [
          { index: 1, message: 'track requires event' },
          { index: 3, message: 'Event Type Unsupported: purchase' },
          { index: 4, message: expect.stringContaining('32 KB') },
          { index: 5, message: 'a message must be a JSON object' },
          { index: 7, message: 'timestamp must be an ISO-8601 date-time, e.g. 2026-11-20T18:41:29.093Z' },
        ],
      });
      const events = await eventsOf(userId);
      expect(events.map((e: any) => e.type).sort()).toEqual(['IDENTIFY', 'PAGE', 'TRACK']);
    });

    it('merges top-level context and integrations into each item and applies the batch sentAt', async () => {
      const userId = uid();
      const sentAt = new Date(Date.now() - 60_000);
      const res = await t.send('/v1/batch', {
        batch: [
          {
            type: 'track',
            userId,
            event: 'A',
            messageId: uid('m'),
            timestamp: new Date(sentAt.getTime() - 500).toISOString(),
            context: { page: { path: '/a' } },
          },
          { type: 'track', userId, event: 'B', messageId: uid('m'), integrations: { Slack: false } },
        ],
        context: { library: { name: 'test-lib' }, page: { path: '/top' } },
        integrations: { All: true },
        sentAt: sentAt.toISOString(),
      });
      expect(res.statusCode).toBe(200);
      const events = await eventsOf(userId);
      const a = events.find((e: any) => e.name.endsWith(':A'));
      const b = events.find((e: any) => e.name.endsWith(':B'));
      expect(a.payload.context).toEqual({ library: { name: 'test-lib' }, page: { path: '/a' } });
      expect(a.payload.integrations).toEqual({ All: true });
      expect(b.payload.integrations).toEqual({ All: true, Slack: false });
      expect(Date.parse(a.receivedAt) - Date.parse(a.timestamp)).toBe(500);
    });

    it('de-duplicates inside a batch and against stored events', async () => {
      const userId = uid();
      const msg = fixture('track', { userId });
      await t.send('/segment', msg);
      const other = fixture('track', { userId, event: 'Other' });
      const res = await t.send('/v1/batch', { batch: [msg, other, other] });
      expect(res.json()).toEqual({ success: true });
      expect(await eventsOf(userId)).toHaveLength(2);
    });

    it('a stored messageId late in a large batch: every other event stored once, counters exact', async () => {
      const userId = uid();
      const event = `Dup ${userId}`;
      const msg = (i: number) => ({ type: 'track', userId, event, messageId: `${userId}-${i}` });
      expect((await t.send('/segment', msg(1100))).statusCode).toBe(202);
      // 1,200 events are written in several statements; the one stored before sits in a later one
      const res = await t.send('/v1/batch', { batch: Array.from({ length: 1200 }, (_, i) => msg(i)) });
      expect(res.statusCode).toBe(200);
      const [{ n }] = await t.db.rows<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM inbound_events WHERE workspace_id = ? AND user_id = ?',
        [t.ws.workspaceId, userId],
      );
      expect(Number(n)).toBe(1200);
      const names = await t.gql('{ eventNames { name count } }');
      expect(names.data!.eventNames.find((e: any) => e.name === `Segment-TrackEvent:${event}`)?.count).toBe(1200);
    });

    it('one group changed several times in one batch: every change applied, in order', async () => {
      const userId = uid();
      const groupId = uid('g');
      const group = (traits: Record<string, unknown>) => fixture('group', { userId, groupId, traits });
      const batch = [group({ a: 1, n: { x: 1 } }), group({ b: 2, n: { y: 2 } }), group({ a: null }), group({ c: 3 })];
      expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
      const res = await t.gql(`{ group(groupId: "${groupId}") { traits members { edges { node { userId } } } } }`);
      expect(res.data!.group.traits).toEqual({ b: 2, c: 3, n: { x: 1, y: 2 } });
      expect(res.data!.group.members.edges.map((e: any) => e.node.userId)).toEqual([userId]);
    });

    it('identifies of several users interleaved in one batch: each profile gets its own in order', async () => {
      const [u1, u2] = [uid('z'), uid('a')]; // u2 sorts before u1: rows are written in key order
      const identify = (userId: string, traits: Record<string, unknown>) =>
        fixture('identify', { userId, anonymousId: undefined, traits });
      const batch = [
        identify(u1, { a: 1 }),
        identify(u2, { a: 1 }),
        identify(u1, { a: 2 }),
        identify(u2, { b: 1 }),
        identify(u1, { a: 3 }),
      ];
      expect((await t.send('/v1/batch', { batch })).statusCode).toBe(200);
      const one = await t.gql(`{ profile(userId: "${u1}") { traits } }`);
      const two = await t.gql(`{ profile(userId: "${u2}") { traits } }`);
      expect(one.data!.profile.traits).toMatchObject({ a: 3 });
      expect(two.data!.profile.traits).toMatchObject({ a: 1, b: 1 });
    });

    it('a retried identify in a batch is not applied again; the new one beside it is', async () => {
      const userId = uid();
      const first = fixture('identify', { userId, traits: { a: 1 } });
      await t.send('/segment', first);
      const again = { ...first, traits: { a: 2 } };
      const other = fixture('identify', { userId, traits: { b: 1 } });
      expect((await t.send('/v1/batch', { batch: [again, other] })).statusCode).toBe(200);
      const res = await t.gql(`{ profile(userId: "${userId}") { traits } }`);
      expect(res.data!.profile.traits).toMatchObject({ a: 1, b: 1 });
      expect(await eventsOf(userId)).toHaveLength(2);
    });

    it('400 when batch is not an array; 413 over 2,500 items', async () => {
      const notArray = await t.send('/v1/batch', { batch: { type: 'track' } });
      expect(notArray.statusCode).toBe(400);
      expect(notArray.json()).toEqual({
        message: 'batch must be an array of messages: {"batch": [...]}',
        code: 'INVALID_EVENT',
      });
      const tooMany = await t.send('/v1/batch', { batch: Array.from({ length: 2501 }, () => ({ type: 'track' })) });
      expect(tooMany.statusCode).toBe(413);
      expect(tooMany.json()).toEqual({
        message: 'a batch holds at most 2500 messages, got 2501',
        code: 'PAYLOAD_TOO_LARGE',
      });
    });

    it('stores a full batch of 2,500 events in one request', async () => {
      const userId = uid();
      const batch = Array.from({ length: 2500 }, (_, i) => ({
        type: 'track',
        userId,
        event: `E${i % 7}`,
        messageId: `${userId}-${i}`,
      }));
      const res = await t.send('/v1/batch', { batch });
      expect(res.statusCode).toBe(200);
      const [{ n }] = await t.db.rows<{ n: number | string }>(
        'SELECT COUNT(*) AS n FROM inbound_events WHERE workspace_id = ? AND user_id = ?',
        [t.ws.workspaceId, userId],
      );
      expect(Number(n)).toBe(2500);
    });
  });

  describe('the fixtures', () => {
    it.each(['identify', 'track', 'group', 'page', 'alias', 'engage-audience-identify', 'engage-audience-entered'])(
      '%s.json is accepted on /segment and logged',
      async (name) => {
        const msg = fixture(name);
        const res = await t.send('/segment', msg);
        expect(res.statusCode).toBe(202);
        const stored = await t.db.rows<{ type: string; status: string; name: string | null }>(
          'SELECT type, status, name FROM inbound_events WHERE workspace_id = ? AND message_id = ?',
          [t.ws.workspaceId, msg.messageId],
        );
        expect(stored).toEqual([
          {
            type: msg.type.toUpperCase(),
            status: msg.type === 'track' ? 'UNMAPPED' : 'PROCESSED',
            name: msg.type === 'track' ? `Segment-TrackEvent:${msg.event}` : null,
          },
        ]);
      },
    );

    it('analytics-node-batch.json is accepted on /v1/batch with its writeKey replaced', async () => {
      const body = fixture('analytics-node-batch');
      body.writeKey = t.ws.ingestKey;
      const userId = uid();
      body.batch = body.batch.map((m: any) => ({ ...m, userId, messageId: `${m.messageId}-${userId}` }));
      const res = await t.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ success: true });
      const profile = await t.gql(`{ profile(userId: "${userId}") { traits } }`);
      expect(profile.data!.profile.traits).toEqual({ email: 'u42@example.com', phone_number: '+15555550142' });
      expect((await eventsOf(userId)).map((e: any) => e.name)).toContain('Segment-TrackEvent:Order Completed');
    });
  });
});

describe('when the database cannot commit', () => {
  it('answers 503 with a retryable error and never 2xx', async () => {
    const t = await startTestApp();
    const { ingestKey } = t.ws;
    // the key is checked first; once the store is gone, nothing can be acknowledged
    await t.db.dataSource.destroy();
    const res = await t.inject({
      method: 'POST',
      url: '/segment',
      headers: { 'content-type': 'application/json', authorization: basic(ingestKey) },
      payload: JSON.stringify(fixture('track')),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toEqual({ message: 'The event store is unavailable; retry later', code: 'STORE_UNAVAILABLE' });
    await t.close();
  });

  it('answers 503 when the write fails after the key was accepted, storing nothing of the batch', async () => {
    // a second app on a connection that may read (keys) but not write: SQLite query_only, a MySQL user with SELECT only
    const t = await startTestApp();
    const userId = uid();
    let url: string;
    let roUser: string | undefined;
    if (isMysql()) {
      const db = new URL(process.env.DATABASE_URL!).pathname.slice(1);
      const user = (roUser = `pigeon_ro_${Date.now() % 1e9}`);
      await t.db.run(`CREATE USER '${user}'@'%' IDENTIFIED BY 'ro-pass'`);
      await t.db.run(`GRANT SELECT ON \`${db}\`.* TO '${user}'@'%'`);
      const u = new URL(process.env.DATABASE_URL!);
      u.username = user;
      u.password = 'ro-pass';
      url = u.toString();
    } else {
      url = `sqlite:${t.db.dataSource.options.database}`;
    }
    const roDb = await openDatabase(url, { migrate: false });
    if (!isMysql()) await roDb.rows('PRAGMA query_only = ON');
    const app = await createApp({ services: createServices(roDb), config: { production: false, logLevel: 'silent' } });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', authorization: basic(t.ws.ingestKey) },
      payload: JSON.stringify({ batch: [fixture('track', { userId }), fixture('identify', { userId })] }),
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ message: 'The event store is unavailable; retry later', code: 'STORE_UNAVAILABLE' });
    await app.close();
    await roDb.dataSource.destroy();
    if (roUser) await t.db.run(`DROP USER '${roUser}'@'%'`);
    expect(await t.db.rows('SELECT id FROM inbound_events WHERE user_id = ?', [userId])).toHaveLength(0);
    expect(await t.db.rows('SELECT id FROM profiles WHERE user_id = ?', [userId])).toHaveLength(0);
    await t.close();
  });
});
