import { GraphQLDateTimeISO } from 'graphql-scalars';
import { isoTime, toDbTime } from '../../src/db/dialect';
import { encodeCursor, decodeCursor } from '../../src/domain/pagination';
import { buildGraphQLSchema } from '../../src/graphql/build-schema';
import { MAX_JSON_DEPTH } from '../../src/domain/json-input';
import { MAX_QUERY_COST } from '../../src/graphql/limits';
import { DateTimeISO } from '../../src/graphql/scalars/date-time-iso.scalar';
import { startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/** What the cheaper GraphQL read path (cached limits, payload-less lists, faster times) keeps the same. */
describe('GraphQL read path', () => {
  let t: TestApp;
  let ws: TestWorkspace;
  const userId = uid();

  async function post(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ws.adminKey}` },
      payload: JSON.stringify({ query, variables, operationName }),
    });
    return { status: res.statusCode, body: res.json() as { data?: any; errors?: any[] } };
  }

  beforeAll(async () => {
    t = await startTestApp();
    ws = await t.newWorkspace();
    const batch = Array.from({ length: 6 }, (_, i) => ({
      type: 'track',
      userId,
      event: 'Read Path',
      properties: { i, nested: { list: [i, 'x'] } },
      messageId: uid('m'),
    }));
    expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  describe('limits, checked once per document', () => {
    const PAGE_OF_PAGES =
      'query($n: Int) { profiles(first: $n) { edges { node { groups { members(first: $n) { edges { node { userId } } } } } } } }';

    it('the same document is refused with a larger `first` after passing with a small one, and back', async () => {
      for (const [n, status] of [
        [5, 200],
        [500, 400],
        [5, 200],
        [500, 400],
        [null, 200],
      ] as const) {
        const res = await post(PAGE_OF_PAGES, { n });
        expect({ n, status: res.status }).toEqual({ n, status });
        if (status === 400) {
          expect(res.body.errors![0]).toMatchObject({
            message: expect.stringMatching(new RegExp(`^Query Cost limit of ${MAX_QUERY_COST} exceeded, found \\d`)),
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          });
        }
      }
    });

    it('operations of one document are measured each on its own', async () => {
      const document = `${PAGE_OF_PAGES.replace('query(', 'query Big(')}
        query Small { eventNames { name } }`;
      expect((await post(document, {}, 'Small')).status).toBe(200);
      expect((await post(document, { n: 500 }, 'Big')).status).toBe(400);
      expect((await post(document, {}, 'Small')).status).toBe(200);
      expect((await post(document, { n: 2 }, 'Big')).status).toBe(200);
    });

    it('variables are checked on every request, inside literals too', async () => {
      const byName = 'query($n: String) { events(first: 1, filter: {name: $n}) { edges { cursor } } }';
      for (const [n, problem] of [
        ['Segment-TrackEvent:Read Path', false],
        ['x\ud800', true],
        ['Segment-TrackEvent:Read Path', false],
      ] as const) {
        const res = await post(byName, { n });
        if (problem) {
          expect(res.status).toBe(400);
          expect(res.body.errors![0]).toMatchObject({
            message: 'argument "filter".name is not valid Unicode (a lone surrogate)',
            extensions: { code: 'BAD_USER_INPUT' },
          });
        } else {
          expect(res.body.errors).toBeUndefined();
          expect(res.body.data.events.edges).toHaveLength(1);
        }
      }
    });

    it('a literal with a problem is refused every time, even after a variable that is fine', async () => {
      const deep = `${'{a: '.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`;
      const query = `mutation($u: String!) { replaceProfile(userId: $u, traits: ${deep}) { userId } }`;
      for (const u of ['lit-1', 'lit-2']) {
        const res = await post(query, { u });
        expect(res.status).toBe(400);
        expect(res.body.errors![0]).toMatchObject({
          message: expect.stringContaining(`nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`),
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      // the first problem in document order is the one reported: the variable's, before the literal's
      const res = await post(query, { u: 'x\udc00' });
      expect(res.body.errors![0].message).toBe('argument "userId" is not valid Unicode (a lone surrogate)');
      expect((await post('query($u: String!) { profile(userId: $u) { userId } }', { u: 'lit-1' })).body.data).toEqual({
        profile: null,
      });
    });
  });

  describe('events: the payload is read only when asked for', () => {
    let sqls: string[];
    let spy: jest.SpyInstance;
    beforeEach(() => {
      sqls = [];
      const rows = t.db.rows.bind(t.db);
      spy = jest.spyOn(t.db, 'rows').mockImplementation((sql: string, params?: unknown[]) => {
        sqls.push(sql);
        return rows(sql, params);
      });
    });
    afterEach(() => spy.mockRestore());
    const listSql = () => sqls.filter((s) => s.includes('FROM inbound_events'));

    const payloads = async (selection: string, fragments = '') => {
      const res = await post(
        `query($first: Int) { events(first: $first, filter: {type: TRACK}) { edges { node { id ${selection} } } } } ${fragments}`,
        { first: 10 },
      );
      expect(res.body.errors).toBeUndefined();
      return res.body.data.events.edges.map((e: any) => e.node);
    };

    it('without payload: not selected from the database', async () => {
      const nodes = await payloads('name receivedAt');
      expect(nodes).toHaveLength(6);
      expect(nodes[0]).toEqual({
        id: expect.any(String),
        name: 'Segment-TrackEvent:Read Path',
        receivedAt: expect.any(String),
      });
      expect(listSql()).toHaveLength(1);
      expect(listSql()[0]).not.toMatch(/payload|\*/);
    });

    it('with payload: directly, aliased, in a fragment, in an inline fragment, twice merged', async () => {
      const expected = (node: any) => {
        expect(node.p ?? node.payload).toMatchObject({
          type: 'track',
          event: 'Read Path',
          userId,
          properties: { i: expect.any(Number), nested: { list: [expect.any(Number), 'x'] } },
        });
      };
      const ways: [string, string][] = [
        ['payload', ''],
        ['p: payload', ''],
        ['...withPayload', 'fragment withPayload on InboundEvent { payload }'],
        ['... on InboundEvent { payload }', ''],
        ['...outer', 'fragment outer on InboundEvent { ...inner } fragment inner on InboundEvent { payload }'],
        ['... @include(if: true) { payload }', ''],
      ];
      for (const [selection, fragments] of ways) {
        const nodes = await payloads(selection, fragments);
        expect(nodes).toHaveLength(6);
        nodes.forEach(expected);
      }
      // two `events` fields merged into one, only one of them asking for the payload
      const merged = await post(
        '{ events(first: 3) { edges { node { id } } } events(first: 3) { edges { node { payload } } } }',
      );
      expect(merged.body.errors).toBeUndefined();
      merged.body.data.events.edges.forEach((e: any) => expect(e.node.payload.event).toBe('Read Path'));
      expect(listSql().every((s) => /\bpayload\b/.test(s))).toBe(true);
    });

    it('the payload of a listed event is the one event(id) gives', async () => {
      const [node] = await payloads('payload');
      const one = await post('query($id: ID!) { event(id: $id) { payload } }', { id: node.id });
      expect(one.body.data.event.payload).toEqual(node.payload);
    });
  });

  describe('DateTimeISO', () => {
    it('is still graphql-scalars’ scalar in the schema, serializing Dates as toISOString does', async () => {
      const scalar = buildGraphQLSchema().getType('DateTimeISO')!;
      expect(scalar).toBe(DateTimeISO);
      expect(DateTimeISO.description).toBe(GraphQLDateTimeISO.description);
      const res = await post('{ events(first: 1) { edges { node { timestamp receivedAt } } } }');
      const node = res.body.data.events.edges[0].node;
      for (const value of [node.timestamp, node.receivedAt]) {
        expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(new Date(value).toISOString()).toBe(value);
      }
    });

    it('serializes and parses exactly like graphql-scalars', () => {
      const values: unknown[] = [
        new Date(0),
        new Date('2024-02-29T23:59:59.999Z'),
        new Date('9999-12-31T23:59:59.999Z'),
        new Date('+010000-01-01T00:00:00.000Z'),
        new Date('1969-12-31T23:59:59.999Z'),
        new Date('0001-01-01T00:00:00Z'),
        '2024-05-06T07:08:09.123+02:00',
        '2024-05-06T07:08:09Z',
        1_700_000_000_000,
        new Date(NaN),
        'not a date',
        true,
        null,
        {},
      ];
      const outcome = (f: () => unknown) => {
        try {
          return { value: f() };
        } catch (err) {
          return { error: (err as Error).message };
        }
      };
      for (const value of values) {
        expect(outcome(() => DateTimeISO.serialize(value))).toEqual(outcome(() => GraphQLDateTimeISO.serialize(value)));
        expect(outcome(() => DateTimeISO.parseValue(value))).toEqual(
          outcome(() => GraphQLDateTimeISO.parseValue(value)),
        );
      }
    });
  });

  describe('times and cursors', () => {
    const times = [
      0,
      1,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      253_402_300_799_999,
      253_402_300_800_000,
      -1,
      -62_198_755_200_000,
      ...Array.from({ length: 20_000 }, () => Math.floor(Math.random() * 253_402_300_800_000)),
    ];

    it('isoTime and toDbTime write what toISOString does', () => {
      const wrong = times.filter((ms) => {
        const iso = new Date(ms).toISOString();
        return isoTime(new Date(ms)) !== iso || toDbTime(new Date(ms)) !== iso.replace('T', ' ').replace('Z', '');
      });
      expect(wrong).toEqual([]);
      expect(() => isoTime(new Date(NaN))).toThrow(RangeError);
      expect(() => toDbTime(new Date(NaN))).toThrow(RangeError);
    });

    it('cursors keep their encoding', () => {
      const old = (values: (string | number)[]) => Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
      const keysets: (string | number)[][] = [
        ...times.slice(0, 100).map((ms) => [toDbTime(new Date(Math.max(ms, 0))), String(ms)]),
        ['2024-01-01 00:00:00.000', '0b0f5d2c-5b8a-4c39-a7b3-0d1c2e3f4a5b'],
        ['a"b', 'c\\d'],
        ['é', '🙂'],
        ['\n', '\u007f'],
        ['x', 1],
        ['only one'],
        ['a', 'b', 'c'],
      ];
      for (const values of keysets) {
        expect(encodeCursor(values)).toBe(old(values));
        expect(decodeCursor(encodeCursor(values), values.length)).toEqual(values);
      }
    });
  });
});
