import {
  getIntrospectionQuery,
  getNamedType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
} from 'graphql';
import { QueryFailedError } from 'typeorm';
import pino from 'pino';
import { createApp } from '../../src/app';
import { buildGraphQLSchema } from '../../src/graphql/build-schema';
import { MAX_ALIASES, MAX_QUERY_COST, MAX_QUERY_DEPTH, MAX_TOKENS } from '../../src/graphql/limits';
import { createServices } from '../../src/services';
import { fixture, startTestApp, TEST_SERVICE_CONFIG, uid, type TestApp } from '../helpers/test-app';

/**
 * GraphQL hardening (docs/guarantees.md, "GraphQL and ingest limits"): depth, cost, aliases, tokens, `first`, body
 * size, masking, CSRF.
 */
describe('GraphQL limits', () => {
  let t: TestApp;
  let userId: string;
  let groupId: string;

  /** The raw HTTP answer to one GraphQL request. */
  async function post(query: string, variables: Record<string, unknown> = {}, key: string | null = t.ws.adminKey) {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      payload: JSON.stringify({ query, variables }),
    });
    return { status: res.statusCode, body: res.json() as { data?: any; errors?: any[] } };
  }

  /** `depth` nested selections: messages → edges → node → event → message → event → … */
  function nested(depth: number): string {
    const chain = ['messages', 'edges', 'node'];
    while (chain.length < depth - 1) chain.push(chain.length % 2 ? 'event' : 'message');
    return '{ ' + chain.map((f) => `${f} {`).join(' ') + ' id ' + '}'.repeat(chain.length) + ' }';
  }

  beforeAll(async () => {
    t = await startTestApp();
    userId = uid();
    groupId = uid('g');
    await t.send('/v1/identify', { userId, traits: { email: 'limits@example.com' } });
    await t.send('/v1/group', { userId, groupId, traits: { name: 'Limits Co' } });
  });
  afterAll(() => t.close());

  describe(`depth ≤ ${MAX_QUERY_DEPTH}, introspection not counted`, () => {
    it(`accepts depth ${MAX_QUERY_DEPTH}; refuses ${MAX_QUERY_DEPTH + 1} with 400 GRAPHQL_VALIDATION_FAILED`, async () => {
      const ok = await post(nested(MAX_QUERY_DEPTH));
      expect(ok).toEqual({ status: 200, body: { data: { messages: { edges: [] } } } });

      const deep = await post(nested(MAX_QUERY_DEPTH + 1));
      expect(deep.status).toBe(400);
      expect(deep.body.data).toBeUndefined();
      expect(deep.body.errors).toHaveLength(1);
      expect(deep.body.errors![0]).toMatchObject({
        message: `Query depth limit of ${MAX_QUERY_DEPTH} exceeded, found ${MAX_QUERY_DEPTH + 1}.`,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
    });

    it('counts fragments at the depth where they are spread', async () => {
      const query = `
        fragment deep on Message { event { message { event { message { event { message { event { id } } } } } } } }
        { messages { edges { node { ...deep } } } }`;
      const res = await post(query);
      expect(res.status).toBe(400);
      expect(res.body.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('the standard introspection query (every option) works without a key', async () => {
      const query = getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
      });
      const res = await post(query, {}, null);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.__schema.types.length).toBeGreaterThan(30);
    });

    it('__type is not counted either: a deep type reference query works without a key', async () => {
      const ofType = (n: number): string => (n === 0 ? 'name' : `name ofType { ${ofType(n - 1)} }`);
      const query = `{ __type(name: "Profile") { fields { name type { ${ofType(MAX_QUERY_DEPTH + 2)} } } } }`;
      const res = await post(query, {}, null);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.__type.fields.map((f: any) => f.name)).toContain('traits');
    });

    it('introspection inside a data query is not counted, the rest is', async () => {
      const res =
        await post(`{ __schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }
        profiles { edges { node { groups { members { edges { node { userId } } } } } } } }`);
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.profiles.edges[0].node.groups[0].members.edges[0].node.userId).toBe(userId);
    });
  });

  describe(`cost ≤ ${MAX_QUERY_COST}`, () => {
    const RICH_PAGE = `messages(first: 500) { edges { cursor node {
      id status reason userId data channel templateVersion eventName createdAt
      template { id key } event { id name }
      deliveries { channel provider status attempts lastError externalId sentAt }
      history { at type detail } } } pageInfo { hasNextPage endCursor } }`;

    it('a page of 500 messages with every field passes', async () => {
      const res = await post(`{ ${RICH_PAGE} }`);
      expect(res).toMatchObject({ status: 200, body: { data: { messages: { edges: [] } } } });
    });

    it('a page of pages is refused with 400 GRAPHQL_VALIDATION_FAILED, before anything runs', async () => {
      const query =
        '{ profiles(first: 500) { edges { node { groups { members(first: 500) { edges { node { userId } } } } } } } }';
      const res = await post(query);
      expect(res.status).toBe(400);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors![0]).toMatchObject({
        message: expect.stringMatching(new RegExp(`^Query Cost limit of ${MAX_QUERY_COST} exceeded, found \\d`)),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
    });

    it('counts `first` given as a variable, and the default page size (50) when it is absent', async () => {
      const viaVariables = await post(
        'query($n: Int) { profiles(first: $n) { edges { node { groups { members(first: $n) { edges { node { userId } } } } } } } }',
        { n: 500 },
      );
      expect(viaVariables.status).toBe(400);
      expect(viaVariables.body.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const small = await post(
        'query($n: Int) { profiles(first: $n) { edges { node { groups { members(first: $n) { edges { node { userId } } } } } } } }',
        { n: 5 },
      );
      expect(small.status).toBe(200);
      const defaults = await post(
        '{ profiles(first: 500) { edges { node { groups { members { edges { node { userId groups { groupId } } } } } } } } }',
      );
      expect(defaults.status).toBe(400);
    });

    it(`more than ${MAX_ALIASES} aliases are refused`, async () => {
      const aliases = (n: number) =>
        '{ ' + Array.from({ length: n }, (_, i) => `a${i}: plugins { slug }`).join(' ') + ' }';
      expect((await post(aliases(MAX_ALIASES))).status).toBe(200);
      const res = await post(aliases(MAX_ALIASES + 1));
      expect(res.status).toBe(400);
      expect(res.body.errors![0]).toMatchObject({
        message: `Aliases limit of ${MAX_ALIASES} exceeded, found ${MAX_ALIASES + 1}.`,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
    });

    it(`more than ${MAX_TOKENS} tokens are refused while parsing (400 GRAPHQL_PARSE_FAILED); syntax errors stay 400`, async () => {
      const res = await post('{ ' + 'eventNames { name } '.repeat(MAX_TOKENS / 4) + '}');
      expect(res.status).toBe(400);
      expect(res.body.errors![0]).toMatchObject({
        message: expect.stringContaining(`${MAX_TOKENS} tokens`),
        extensions: { code: 'GRAPHQL_PARSE_FAILED' },
      });
      const broken = await post('{ plugins { slug ');
      expect(broken.status).toBe(400);
      expect(broken.body.errors![0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    });
  });

  describe('`first` is 1–500 on every list argument of the schema', () => {
    const schema = buildGraphQLSchema();
    /** Values for the required arguments of root fields on the way to a paginated field. */
    const rootArgs = (): Record<string, string> => ({ group: `groupId: "${groupId}"`, profile: `userId: "${userId}"` });

    /** A query reaching `target` on `typeName` by the shortest path from Query, with `first: $first` there. */
    function queryFor(typeName: string, target: string): string {
      const queue: { type: GraphQLObjectType; path: GraphQLField<unknown, unknown>[] }[] = [
        { type: schema.getQueryType()!, path: [] },
      ];
      const seen = new Set<string>();
      while (queue.length) {
        const { type, path } = queue.shift()!;
        if (type.name === typeName) {
          const args = rootArgs();
          const open = path.map((f, i) => {
            const required = f.args.filter((a) => isNonNullType(a.type));
            if (i === 0 && required.length) {
              if (!args[f.name]) throw new Error(`no value for the required arguments of Query.${f.name}`);
              return `${f.name}(${args[f.name]}) {`;
            }
            if (required.length) throw new Error(`${f.name} has required arguments`);
            return `${f.name} {`;
          });
          return `query($first: Int) { ${open.join(' ')} ${target}(first: $first) { __typename } ${'}'.repeat(open.length)} }`;
        }
        if (seen.has(type.name)) continue;
        seen.add(type.name);
        for (const field of Object.values(type.getFields())) {
          const next = getNamedType(field.type);
          if (isObjectType(next) && !next.name.startsWith('__')) queue.push({ type: next, path: [...path, field] });
        }
      }
      throw new Error(`${typeName} cannot be reached from Query`);
    }

    const paginated = Object.values(schema.getTypeMap())
      .filter((type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'))
      .flatMap((type) =>
        Object.values(type.getFields())
          .filter((field) => field.args.some((a) => a.name === 'first'))
          .map((field) => ({ type: type.name, field: field.name })),
      );

    it('finds the paginated fields', () => {
      expect(paginated).toEqual(
        expect.arrayContaining([
          { type: 'Query', field: 'profiles' },
          { type: 'Query', field: 'events' },
          { type: 'Query', field: 'messages' },
          { type: 'Group', field: 'members' },
        ]),
      );
    });

    it.each(paginated.map((p) => [`${p.type}.${p.field}`, p] as const))(
      '%s: 0, -1 and 501 are BAD_USER_INPUT; 1 and 500 work',
      async (_name, { type, field }) => {
        const query =
          type === 'Query' ? `query($first: Int) { ${field}(first: $first) { __typename } }` : queryFor(type, field);
        for (const first of [1, 500]) {
          const res = await post(query, { first });
          expect({ first, errors: res.body.errors }).toEqual({ first, errors: undefined });
        }
        for (const first of [0, -1, 501]) {
          const res = await post(query, { first });
          expect(res.body.errors?.[0]).toMatchObject({
            message: `first must be between 1 and 500, got ${first}`,
            extensions: { code: 'BAD_USER_INPUT' },
          });
        }
      },
    );

    it.each(paginated.map((p) => [`${p.type}.${p.field}`, p] as const))(
      '%s: first 100000 is BAD_USER_INPUT (400) as a literal, a variable and a default, never a cost error',
      async (_name, { type, field }) => {
        const query =
          type === 'Query' ? `query($first: Int) { ${field}(first: $first) { __typename } }` : queryFor(type, field);
        const literal = query.replace('query($first: Int)', 'query').replace('(first: $first)', '(first: 100000)');
        const withDefault = query.replace('query($first: Int)', 'query($first: Int = 100000)');
        for (const [q, variables] of [
          [query, { first: 100000 }],
          [literal, {}],
          [withDefault, {}],
        ] as const) {
          const res = await post(q, variables);
          expect({ q, status: res.status, error: res.body.errors?.[0] }).toMatchObject({
            q,
            status: 400,
            error: { message: 'first must be between 1 and 500, got 100000', extensions: { code: 'BAD_USER_INPUT' } },
          });
        }
      },
    );
  });

  describe('`first` outside 1–500 is told before the cost (issue 14)', () => {
    const TOO_MANY = 'first must be between 1 and 500, got 100000';
    const EVENTS_PAGE = 'edges { cursor node { id name type status payload receivedAt } } pageInfo { hasNextPage }';

    it('events(first: 100000) is BAD_USER_INPUT, not a cost error: literal, variable and default', async () => {
      for (const [query, variables] of [
        [`{ events(first: 100000) { ${EVENTS_PAGE} } }`, {}],
        [`query($n: Int) { events(first: $n) { ${EVENTS_PAGE} } }`, { n: 100000 }],
        [`query($n: Int = 100000) { events(first: $n) { ${EVENTS_PAGE} } }`, {}],
        // also when the rest of the document would be too costly on its own
        [
          `query($n: Int) { events(first: $n) { ${EVENTS_PAGE} }
            profiles(first: 500) { edges { node { groups { members(first: 500) { edges { node { userId } } } } } } } }`,
          { n: 100000 },
        ],
      ] as const) {
        const res = await post(query, variables);
        expect({ query, status: res.status, data: res.body.data, errors: res.body.errors }).toEqual({
          query,
          status: 400,
          data: undefined,
          errors: [
            expect.objectContaining({
              message: TOO_MANY,
              extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
            }),
          ],
        });
      }
    });

    it('a page of pages is still a cost error when every first is in range', async () => {
      const res = await post(
        '{ profiles(first: 500) { edges { node { groups { members(first: 500) { edges { node { userId } } } } } } } }',
      );
      expect(res.status).toBe(400);
      expect(res.body.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it("a variable's default value counts for the cost like a given value", async () => {
      const query =
        'query($n: Int = 500) { profiles(first: $n) { edges { node { groups { members(first: $n) { edges { node { userId } } } } } } } }';
      const byDefault = await post(query);
      expect(byDefault.status).toBe(400);
      expect(byDefault.body.errors![0]).toMatchObject({
        message: expect.stringMatching(/^Query Cost limit/),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      const given = await post(query, { n: 5 });
      expect(given.status).toBe(200);
      expect(given.body.errors).toBeUndefined();
    });
  });

  describe('request size', () => {
    it('a request over 500 KB is refused with 413 before it is parsed', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
        payload: JSON.stringify({
          query: 'mutation($t: JSONObject!) { mergeProfile(userId: "big", traits: $t) { userId } }',
          variables: { t: { blob: 'x'.repeat(600_000) } },
        }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({ message: 'The request body is over 500 KB', code: 'PAYLOAD_TOO_LARGE' });
      expect((await post('{ profile(userId: "big") { userId } }')).body.data!.profile).toBeNull();
    });
  });

  describe('CSRF prevention (Apollo default) is on', () => {
    it('refuses GET queries and simple POSTs a browser form could send', async () => {
      const get = await t.inject({
        method: 'GET',
        url: `/graphql?query=${encodeURIComponent('{ apiKeys { id } }')}`,
        headers: { authorization: `Bearer ${t.ws.adminKey}` },
      });
      expect(get.statusCode).toBe(400);
      expect(get.body).toContain('CSRF');
      const textPlain = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${t.ws.adminKey}` },
        payload: JSON.stringify({ query: 'mutation { deleteProfile(userId: "x") }' }),
      });
      expect(textPlain.statusCode).toBe(400);
      const form = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'query=%7B%20apiKeys%20%7B%20id%20%7D%20%7D',
      });
      expect(form.statusCode).toBe(415);
    });
  });

  describe('error masking with NODE_ENV=production', () => {
    it('an unexpected error (a failed SQL statement) is "Internal server error", with no stack or SQL', async () => {
      const services = createServices(t.db, TEST_SERVICE_CONFIG, pino({ level: 'silent' }));
      const sql = 'SELECT secret_hash FROM api_keys WHERE workspace_id = ?';
      services.events.names = async () => {
        throw new QueryFailedError(
          sql,
          [1],
          new Error(`ER_NO_SUCH_TABLE: Table 'pigeon.event_name_stats' doesn't exist`),
        );
      };
      for (const production of [true, false]) {
        const app = await createApp({ services, config: { production, logLevel: 'silent' } });
        const res = await app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
          payload: JSON.stringify({ query: '{ eventNames { name } }' }),
        });
        const text = res.body;
        if (production) {
          expect(res.json().errors).toEqual([
            {
              message: 'Internal server error',
              locations: [{ line: 1, column: 3 }],
              path: ['eventNames'],
              extensions: { code: 'INTERNAL_SERVER_ERROR' },
            },
          ]);
          expect(text).not.toMatch(/SELECT|api_keys|ER_NO_SUCH_TABLE|stacktrace|\.ts:\d+/);
        } else {
          expect(text).toContain('stacktrace'); // development keeps the details
        }
        await app.close();
      }
    });

    it('limit violations and user errors keep their message and code, without a stack trace', async () => {
      const app = await createApp({ services: t.services, config: { production: true, logLevel: 'silent' } });
      for (const [query, code] of [
        [nested(MAX_QUERY_DEPTH + 1), 'GRAPHQL_VALIDATION_FAILED'],
        ['{ events(first: 501) { edges { cursor } } }', 'BAD_USER_INPUT'],
        ['{ nope }', 'GRAPHQL_VALIDATION_FAILED'],
        ['{ plugins { ', 'GRAPHQL_PARSE_FAILED'],
      ] as const) {
        const res = await app.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
          payload: JSON.stringify({ query }),
        });
        expect(res.json().errors[0].extensions.code).toBe(code);
        expect(res.body).not.toMatch(/stacktrace|\.ts:\d+|node_modules/);
      }
      await app.close();
    });

    it('a database that is down is a 503-style error without internals', async () => {
      const { openDatabase } = await import('../../src/open-database');
      const { testDatabaseUrl } = await import('../helpers/test-app');
      const db = await openDatabase(testDatabaseUrl(), { migrate: false });
      const services = createServices(db, TEST_SERVICE_CONFIG, pino({ level: 'silent' }));
      const app = await createApp({ services, config: { production: true, logLevel: 'silent' } });
      await db.dataSource.destroy();
      const res = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
        payload: JSON.stringify({ query: '{ eventNames { name } }' }),
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(500);
      expect(res.body).not.toMatch(/SELECT|stacktrace|\.ts:\d+|node_modules|DataSource/);
      const ingest = await app.inject({
        method: 'POST',
        url: '/v1/track',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.ingestKey}` },
        payload: JSON.stringify(fixture('track')),
      });
      expect(ingest.statusCode).toBe(503);
      expect(ingest.json()).toEqual({
        message: 'The event store is unavailable; retry later',
        code: 'STORE_UNAVAILABLE',
      });
      await app.close();
    });
  });
});
