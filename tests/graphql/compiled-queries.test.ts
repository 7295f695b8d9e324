import { startTestApp, uid, type TestApp, type TestWorkspace } from '../helpers/test-app';

/** Counts what graphql-jit compiles and how often a compiled query runs (the real compiler underneath). */
const jit = { compiled: 0, runs: 0 };
jest.mock('graphql-jit', () => {
  const real = jest.requireActual('graphql-jit');
  return {
    ...real,
    compileQuery: (...args: unknown[]) => {
      const compiled = real.compileQuery(...args);
      jit.compiled++;
      if (real.isCompiledQuery(compiled)) {
        const run = compiled.query;
        compiled.query = (...runArgs: unknown[]) => {
          jit.runs++;
          return run(...runArgs);
        };
      }
      return compiled;
    },
  };
});

/**
 * Queries are answered by graphql-jit's compiled functions (register-graphql.ts, compiled-queries.ts):
 * compiled once per document, with the same answers as graphql-js; mutations, introspection and every
 * run with an error go through graphql-js, with its errors and HTTP statuses.
 */
describe('compiled queries', () => {
  let t: TestApp;
  let ws: TestWorkspace;
  const userId = uid('u');
  const EVENTS = `query Events($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id messageId type name userId status timestamp receivedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

  async function post(query: string, variables: Record<string, unknown> = {}, key: string | null = ws.adminKey) {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      payload: JSON.stringify({ query, variables }),
    });
    return { status: res.statusCode, body: res.json() as { data?: any; errors?: any[] } };
  }

  beforeAll(async () => {
    t = await startTestApp();
    ws = await t.newWorkspace();
    // five events with one receivedAt (one batch): pages are cut between equal times by id
    const batch = Array.from({ length: 5 }, (_, i) => ({
      type: 'track',
      userId,
      event: 'Compiled',
      properties: { i },
      messageId: `m-${i}`,
      timestamp: '2026-01-02T03:04:05.678Z',
    }));
    expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
  });
  afterAll(() => t.close());
  beforeEach(() => {
    jit.compiled = 0;
    jit.runs = 0;
  });

  it('a query is compiled on its second request, then run compiled, with the answer graphql-js gave', async () => {
    const first = await post(EVENTS, { first: 2, filter: { userId } });
    expect(jit).toEqual({ compiled: 0, runs: 0 }); // sent once: graphql-js answers, nothing is compiled
    const second = await post(EVENTS, { first: 2, filter: { userId } });
    const third = await post(EVENTS, { first: 2, filter: { userId } });
    expect(jit).toEqual({ compiled: 1, runs: 2 });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(first.status).toBe(200);
    const { edges, pageInfo } = first.body.data.events;
    expect(edges.map((e: any) => e.node.messageId)).toEqual(['m-4', 'm-3']);
    expect(edges[0].node).toEqual({
      id: expect.stringMatching(/^\d+$/),
      messageId: 'm-4',
      type: 'TRACK',
      name: 'Segment-TrackEvent:Compiled',
      userId,
      status: 'UNMAPPED',
      timestamp: '2026-01-02T03:04:05.678Z',
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(pageInfo).toEqual({ hasNextPage: true, endCursor: edges[1].cursor });
  });

  it('paging with `after` over equal receive times visits every event once, compiled', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await post(EVENTS, { first: 2, after, filter: { userId, name: 'Segment-TrackEvent:Compiled' } });
      const { edges, pageInfo } = res.body.data.events;
      seen.push(...edges.map((e: any) => e.node.messageId));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual(['m-4', 'm-3', 'm-2', 'm-1', 'm-0']);
    expect(jit.runs).toBe(3);
  });

  it('the same compiled document answers other variables, and @include/@skip by them', async () => {
    const query = `query($u: String!, $withName: Boolean!, $noUser: Boolean!) {
      events(first: 1, filter: {userId: $u}) { edges { node { messageId name @include(if: $withName) userId @skip(if: $noUser) } } }
    }`;
    const a = await post(query, { u: userId, withName: true, noUser: false });
    const b = await post(query, { u: userId, withName: false, noUser: true });
    const none = await post(query, { u: uid('nobody'), withName: true, noUser: false });
    expect(a.body.data.events.edges).toEqual([
      { node: { messageId: 'm-4', name: 'Segment-TrackEvent:Compiled', userId } },
    ]);
    expect(b.body.data.events.edges).toEqual([{ node: { messageId: 'm-4' } }]);
    expect(none.body.data.events.edges).toEqual([]);
    expect(jit).toEqual({ compiled: 1, runs: 2 });
  });

  it('a bad cursor is BAD_USER_INPUT (HTTP 200, data null), as graphql-js answers it', async () => {
    const res = await post(EVENTS, { first: 2, after: 'not-a-cursor', filter: { userId } });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('is not a cursor of this list'),
        path: ['events'],
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    ]);
    // a cursor of the right shape with a time that is not one
    const forged = Buffer.from(JSON.stringify(['yesterday', '1'])).toString('base64url');
    const again = await post(EVENTS, { first: 2, after: forged, filter: { userId } });
    expect(again.body.errors![0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('variables of the wrong type are a 400 BAD_USER_INPUT from graphql-js', async () => {
    const res = await post(EVENTS, { first: 'two', filter: { userId } });
    expect(res.status).toBe(400);
    expect(res.body.errors![0]).toMatchObject({
      message: expect.stringContaining('Variable "$first" got invalid value "two"'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('a refused key is UNAUTHENTICATED on the compiled path too', async () => {
    const res = await post(EVENTS, { first: 2 }, null);
    expect(res.body.data).toBeNull();
    expect(res.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('mutations and introspection are never compiled', async () => {
    for (let i = 0; i < 3; i++) {
      const mutation = await post('mutation { unmapEvent(eventName: "Segment-TrackEvent:Nothing") }');
      expect(mutation.body).toEqual({ data: { unmapEvent: false } });
      const introspection = await post('{ __schema { queryType { name } } }', {}, null);
      expect(introspection.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    }
    const typeOf = await post('{ __type(name: "EventName") { fields { name } } }', {}, null);
    expect(typeOf.body.data.__type.fields.map((f: any) => f.name)).toEqual(['name', 'count', 'lastSeenAt', 'mapping']);
    expect(jit.compiled).toBe(0);
  });

  it('__typename and aliases: the same answer from graphql-js (first request) and compiled (second)', async () => {
    const query = `{ __typename list: events(first: 1, filter: {userId: "${userId}"}) { __typename } }`;
    const expected = { data: { __typename: 'Query', list: { __typename: 'EventConnection' } } };
    expect((await post(query)).body).toEqual(expected);
    expect((await post(query)).body).toEqual(expected);
    expect(jit).toEqual({ compiled: 1, runs: 1 });
  });

  it('eventNames with their mappings: the same answer compiled', async () => {
    const query = '{ eventNames { name count lastSeenAt mapping { eventName } } }';
    const first = await post(query);
    expect(first.body.data.eventNames).toEqual([
      { name: 'Segment-TrackEvent:Compiled', count: 5, lastSeenAt: expect.any(String), mapping: null },
    ]);
    expect((await post(query)).body).toEqual(first.body);
    expect(jit).toEqual({ compiled: 1, runs: 1 });
  });
});
