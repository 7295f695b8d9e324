import fs from 'node:fs';
import path from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { printSDL } from '../../src/graphql/build-schema';
import { basic, fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';

const EVENTS = `query($first: Int, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id messageId type name userId status receivedAt } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('GraphQL API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('authentication', () => {
    it('UNAUTHENTICATED without a key, with an unknown key, or with a revoked key', async () => {
      for (const key of [null, 'pgn_a_unknown']) {
        const res = await t.gql('{ eventNames { name } }', {}, key);
        expect(res.data).toBeNull();
        expect(res.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
      }
      const ws = await t.newWorkspace();
      const created = await t.gql(
        'mutation { createApiKey(scope: ADMIN) { apiKey { id scope } secret } }',
        {},
        ws.adminKey,
      );
      const { apiKey, secret } = created.data!.createApiKey;
      expect(apiKey.scope).toBe('ADMIN');
      expect((await t.gql('{ apiKeys { id } }', {}, secret)).data!.apiKeys).toHaveLength(3);
      await t.gql(`mutation { revokeApiKey(id: "${apiKey.id}") { id } }`, {}, ws.adminKey);
      const revoked = await t.gql('{ apiKeys { id } }', {}, secret);
      expect(revoked.errors![0]).toMatchObject({
        message: 'This API key has been revoked',
        extensions: { code: 'UNAUTHENTICATED' },
      });
    });

    it('FORBIDDEN for an ingest key, on queries and mutations', async () => {
      for (const op of ['{ profiles { edges { cursor } } }', 'mutation { deleteProfile(userId: "x") }']) {
        const res = await t.gql(op, {}, t.ws.ingestKey);
        expect(res.errors![0].extensions!.code).toBe('FORBIDDEN');
      }
    });

    it('accepts only Bearer for GraphQL, not Basic', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json', authorization: basic(t.ws.adminKey) },
        payload: JSON.stringify({ query: '{ eventNames { name } }' }),
      });
      expect(res.json().errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('serves introspection without a key, the standard introspection query included', async () => {
      const res = await t.gql(getIntrospectionQuery(), {}, null);
      expect(res.errors).toBeUndefined();
      expect(res.data!.__schema.queryType.name).toBe('Query');
      const typeRes = await t.gql('{ __type(name: "Profile") { fields { name } } }', {}, null);
      expect(typeRes.data!.__type.fields.map((f: any) => f.name)).toEqual(
        expect.arrayContaining(['userId', 'anonymousIds', 'traits', 'groups']),
      );
    });

    it('keeps CSRF prevention: a text/plain POST without a preflight header is refused', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${t.ws.adminKey}` },
        payload: JSON.stringify({ query: '{ eventNames { name } }' }),
      });
      expect(res.statusCode).toBe(400);
    });
  });

  describe('events', () => {
    let ws: Awaited<ReturnType<TestApp['newWorkspace']>>;
    const userA = uid('a');
    const userB = uid('b');
    beforeAll(async () => {
      ws = await t.newWorkspace();
      const batch = [];
      for (let i = 0; i < 30; i++)
        batch.push({
          type: 'track',
          userId: i % 3 ? userA : userB,
          event: i % 2 ? 'Order Completed' : 'Login',
          messageId: `ev-${i}-${userA}`,
        });
      batch.push({ type: 'identify', userId: userA, traits: { x: 1 }, messageId: uid('m') });
      batch.push({ type: 'page', userId: userB, name: 'Home', messageId: uid('m') });
      expect((await t.send('/v1/batch', { batch }, ws.ingestKey)).statusCode).toBe(200);
      await t.send('/segment', fixture('track', { userId: userA, event: 'Login' }), ws.ingestKey);
    });

    const all = async (filter: unknown, first = 7) => {
      const nodes: any[] = [];
      let after: string | null = null;
      for (;;) {
        const res: any = await t.gql(EVENTS, { first, after, filter }, ws.adminKey);
        expect(res.errors).toBeUndefined();
        nodes.push(...res.data.events.edges.map((e: any) => e.node));
        if (!res.data.events.pageInfo.hasNextPage) return nodes;
        after = res.data.events.pageInfo.endCursor;
      }
    };

    it('lists newest first by receivedAt, then id, across pages without gaps or repeats', async () => {
      const nodes = await all({});
      expect(nodes).toHaveLength(33);
      expect(new Set(nodes.map((n) => n.id)).size).toBe(33);
      for (let i = 1; i < nodes.length; i++) {
        const [prev, cur] = [nodes[i - 1], nodes[i]];
        const ordered =
          prev.receivedAt > cur.receivedAt || (prev.receivedAt === cur.receivedAt && Number(prev.id) > Number(cur.id));
        expect(ordered).toBe(true);
      }
      expect(nodes[0].name).toBe('Segment-TrackEvent:Login');
    });

    it('filters by type, status, name, userId and receive time', async () => {
      expect(await all({ type: 'IDENTIFY' })).toHaveLength(1);
      expect(await all({ type: 'PAGE', userId: userB })).toHaveLength(1);
      expect(await all({ status: 'UNMAPPED' })).toHaveLength(31);
      expect(await all({ status: 'PROCESSED' })).toHaveLength(2);
      expect(await all({ name: 'Segment-TrackEvent:Order Completed' })).toHaveLength(15);
      expect(await all({ name: 'Segment-TrackEvent:Login', userId: userA })).toHaveLength(11);
      expect(await all({ name: 'Order Completed' })).toHaveLength(0);
      expect(await all({ since: new Date(Date.now() + 60_000).toISOString() })).toHaveLength(0);
      expect(await all({ until: new Date(Date.now() + 60_000).toISOString(), type: 'TRACK' })).toHaveLength(31);
    });

    it('keeps cursors stable while new events arrive', async () => {
      const first = await t.gql(EVENTS, { first: 10 }, ws.adminKey);
      const seen = first.data!.events.edges.map((e: any) => e.node.id);
      // newer events arrive between pages
      await t.send(
        '/v1/batch',
        {
          batch: Array.from({ length: 5 }, () => ({
            type: 'track',
            userId: userA,
            event: 'Late',
            messageId: uid('m'),
          })),
        },
        ws.ingestKey,
      );
      const rest = await all({}, 10);
      const second = await t.gql(EVENTS, { first: 500, after: first.data!.events.pageInfo.endCursor }, ws.adminKey);
      const after = second.data!.events.edges.map((e: any) => e.node.id);
      expect(after).toHaveLength(23);
      expect(after.filter((id: string) => seen.includes(id))).toEqual([]);
      expect(rest).toHaveLength(38);
    });

    it('event(id) returns one event of the workspace, null otherwise', async () => {
      const [node] = await all({ type: 'IDENTIFY' });
      const res = await t.gql(
        'query($id: ID!) { event(id: $id) { id type payload userId } }',
        { id: node.id },
        ws.adminKey,
      );
      expect(res.data!.event).toMatchObject({
        id: node.id,
        type: 'IDENTIFY',
        userId: userA,
        payload: { traits: { x: 1 } },
      });
      expect(
        (await t.gql('query($id: ID!) { event(id: $id) { id } }', { id: node.id }, t.ws.adminKey)).data!.event,
      ).toBeNull();
      expect((await t.gql('{ event(id: "not-a-number") { id } }', {}, ws.adminKey)).data!.event).toBeNull();
    });

    it('eventNames counts each track name with its last receive time', async () => {
      const res = await t.gql('{ eventNames { name count lastSeenAt } }', {}, ws.adminKey);
      const byName = Object.fromEntries(res.data!.eventNames.map((n: any) => [n.name, n]));
      expect(byName['Segment-TrackEvent:Login'].count).toBe(16);
      expect(byName['Segment-TrackEvent:Order Completed'].count).toBe(15);
      expect(Date.parse(byName['Segment-TrackEvent:Login'].lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('a duplicate never counts twice in eventNames', async () => {
      const ws2 = await t.newWorkspace();
      const msg = fixture('track', { userId: uid() });
      await t.send('/segment', msg, ws2.ingestKey);
      await t.send('/segment', msg, ws2.ingestKey);
      await t.send('/v1/batch', { batch: [msg, msg] }, ws2.ingestKey);
      const res = await t.gql('{ eventNames { name count } }', {}, ws2.adminKey);
      expect(res.data!.eventNames).toEqual([{ name: 'Segment-TrackEvent:Login Button Clicked', count: 1 }]);
    });

    it('rejects first outside 1–500 and foreign cursors with BAD_USER_INPUT', async () => {
      for (const vars of [
        { first: 0 },
        { first: 501 },
        { first: -1 },
        { after: 'bm9wZQ' },
        { after: Buffer.from('["x","y"]').toString('base64url') },
      ]) {
        const res = await t.gql(EVENTS, vars, ws.adminKey);
        expect(res.errors![0].extensions!.code).toBe('BAD_USER_INPUT');
      }
    });
  });

  describe('groups and keys', () => {
    it('group(groupId) is null when unknown; members paginate', async () => {
      expect((await t.gql('{ group(groupId: "nope") { groupId } }')).data!.group).toBeNull();
      const groupId = uid('g');
      const users = Array.from({ length: 5 }, () => uid());
      for (const userId of users) await t.send('/v1/group', { userId, groupId, messageId: uid('m') });
      const q = `query($g: String!, $after: String) { group(groupId: $g) { members(first: 2, after: $after) { edges { node { userId groups { groupId } } } pageInfo { hasNextPage endCursor } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res: any = await t.gql(q, { g: groupId, after });
        seen.push(...res.data.group.members.edges.map((e: any) => e.node.userId));
        if (!res.data.group.members.pageInfo.hasNextPage) break;
        after = res.data.group.members.pageInfo.endCursor;
      }
      expect(seen).toEqual(users);
    });

    it('apiKeys lists prefix, scope and times, never a secret; revoking an unknown key is NOT_FOUND', async () => {
      const res = await t.gql('{ apiKeys { id name prefix scope createdAt lastUsedAt revokedAt } }');
      expect(res.data!.apiKeys.map((k: any) => k.scope).sort()).toEqual(['ADMIN', 'INGEST']);
      expect(JSON.stringify(res.data)).not.toContain(t.ws.adminKey);
      expect(res.data!.apiKeys.find((k: any) => k.scope === 'ADMIN').prefix).toBe(t.ws.adminKey.slice(0, 10));
      const missing = await t.gql('mutation { revokeApiKey(id: "00000000-0000-0000-0000-000000000000") { id } }');
      expect(missing.errors![0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      const badScope = await t.gql('mutation { createApiKey(scope: ROOT) { secret } }');
      expect(badScope.errors![0].extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });
  });

  describe('workspace isolation', () => {
    it("an admin key never sees or changes another workspace's data", async () => {
      const a = await t.newWorkspace();
      const b = await t.newWorkspace();
      const userId = uid();
      const groupId = uid('g');
      await t.send(
        '/segment',
        fixture('identify', { userId, traits: { email: 'a@example.com', secret: 'A' } }),
        a.ingestKey,
      );
      await t.send(
        '/segment',
        { type: 'group', userId, groupId, traits: { name: 'A Co' }, messageId: uid('m') },
        a.ingestKey,
      );
      await t.send('/segment', fixture('track', { userId }), a.ingestKey);
      const aEvents = await t.gql(EVENTS, {}, a.adminKey);
      const eventId = aEvents.data!.events.edges[0].node.id;
      const aKeys = await t.gql('{ apiKeys { id } }', {}, a.adminKey);

      const asB = (q: string, v: Record<string, unknown> = {}) => t.gql(q, v, b.adminKey);
      expect(
        (await asB('query($u: String!) { profile(userId: $u) { userId } }', { u: userId })).data!.profile,
      ).toBeNull();
      expect((await asB('{ profiles(first: 500) { edges { node { userId } } } }')).data!.profiles.edges).toEqual([]);
      expect(
        (await asB('{ profiles(filter: {search: "a@example.com"}) { edges { node { userId } } } }')).data!.profiles
          .edges,
      ).toEqual([]);
      expect(
        (await asB('query($g: String!) { group(groupId: $g) { groupId } }', { g: groupId })).data!.group,
      ).toBeNull();
      expect((await asB(EVENTS)).data!.events.edges).toEqual([]);
      expect((await asB('query($id: ID!) { event(id: $id) { id } }', { id: eventId })).data!.event).toBeNull();
      expect((await asB('{ eventNames { name } }')).data!.eventNames).toEqual([]);
      expect((await asB('{ apiKeys { id } }')).data!.apiKeys.map((k: any) => k.id)).not.toEqual(
        expect.arrayContaining([aKeys.data!.apiKeys[0].id]),
      );
      const revoke = await asB('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
        id: aKeys.data!.apiKeys[0].id,
      });
      expect(revoke.errors![0].extensions!.code).toBe('NOT_FOUND');
      expect(
        (await asB('mutation($u: String!) { deleteProfile(userId: $u) }', { u: userId })).data!.deleteProfile,
      ).toBe(false);
      await asB('mutation($u: String!) { mergeProfile(userId: $u, traits: {secret: "B"}) { userId } }', { u: userId });
      await asB('mutation($u: String!) { replaceProfile(userId: $u, traits: {secret: "B2"}) { userId } }', {
        u: userId,
      });

      const aProfile = await t.gql(
        'query($u: String!) { profile(userId: $u) { traits groups { groupId } } }',
        { u: userId },
        a.adminKey,
      );
      expect(aProfile.data!.profile.traits.secret).toBe('A');
      expect(aProfile.data!.profile.groups).toEqual([{ groupId }]);
      expect(
        (await t.gql('{ apiKeys { revokedAt } }', {}, a.adminKey)).data!.apiKeys.every(
          (k: any) => k.revokedAt === null,
        ),
      ).toBe(true);
    });
  });

  it('errors carry no stack trace or SQL in production', async () => {
    const { createApp } = await import('../../src/app');
    const app = await createApp({ services: t.services, config: { production: true, logLevel: 'silent' } });
    const res = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
      payload: JSON.stringify({ query: '{ events(first: 0) { edges { cursor } } }' }),
    });
    const body = res.json();
    expect(body.errors[0]).toMatchObject({
      message: 'first must be between 1 and 500, got 0',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|SELECT|at .*\.ts/);
    await app.close();
  });

  it('schema/schema.graphql matches the schema the code builds (run `npm run schema:emit`)', () => {
    const committed = fs.readFileSync(path.resolve(__dirname, '../../schema/schema.graphql'), 'utf8');
    expect(committed).toBe(printSDL());
  });
});
