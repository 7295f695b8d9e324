import { fixture, isMysql, startTestApp, uid, type TestApp } from '../helpers/test-app';

const PROFILE = `query($userId: String!) { profile(userId: $userId) { userId anonymousIds traits groups { groupId traits } createdAt updatedAt } }`;

describe('profiles built from identify, group and alias', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const identify = (userId: string | undefined, traits: unknown, extra: Record<string, unknown> = {}) =>
    t.send('/v1/identify', { userId, traits, messageId: uid('m'), ...extra });

  async function profile(userId: string) {
    const res = await t.gql(PROFILE, { userId });
    expect(res.errors).toBeUndefined();
    return res.data!.profile;
  }

  it('merges traits with RFC 7396: nested objects merge, arrays and scalars replace, null deletes', async () => {
    const userId = uid();
    await identify(userId, {
      name: 'Ada',
      plan: 'free',
      address: { city: 'Paris', zip: '75001', geo: { lat: 1 } },
      tags: ['a', 'b'],
      score: 1,
    });
    await identify(userId, {
      plan: 'pro',
      address: { city: 'Lyon', geo: { lng: 2 } },
      tags: ['c'],
      score: null,
      nick: null,
    });
    await identify(userId, { address: { zip: null } });
    expect((await profile(userId)).traits).toEqual({
      name: 'Ada',
      plan: 'pro',
      address: { city: 'Lyon', geo: { lat: 1, lng: 2 } },
      tags: ['c'],
    });
  });

  it('updates and deletes sibling keys in one patch (MariaDB JSON_MERGE_PATCH loses the update here)', async () => {
    const userId = uid();
    await identify(userId, { a: 1, b: 2, c: 3, n: { x: 1, y: 2, z: 3 } });
    await identify(userId, { b: 20, a: null, n: { y: 20, x: null } });
    expect((await profile(userId)).traits).toEqual({ b: 20, c: 3, n: { y: 20, z: 3 } });
    await identify(userId, { 'key "quoted"': 1, 'dot.key': 2 });
    await identify(userId, { 'key "quoted"': null, 'dot.key': null, c: 30 });
    expect((await profile(userId)).traits).toEqual({ b: 20, c: 30, n: { y: 20, z: 3 } });
  });

  it('never stores the nulls of a first identify', async () => {
    const userId = uid();
    await identify(userId, { a: null, b: { c: null, d: 1 }, e: [null, 1] });
    expect((await profile(userId)).traits).toEqual({ b: { d: 1 }, e: [null, 1] });
  });

  it('keeps JSON types and unicode exactly', async () => {
    const userId = uid();
    const traits = {
      big: 12345678980,
      float: 0.1,
      neg: -5,
      t: true,
      f: false,
      s: '🕊️ "quoted" \\ back',
      empty: {},
      list: [1, 'two', { three: 3 }],
      deep: { a: { b: { c: { d: 'e' } } } },
    };
    await identify(userId, traits);
    expect((await profile(userId)).traits).toEqual(traits);
  });

  it('keeps an identify with traits absent or empty harmless, and creates the profile', async () => {
    const userId = uid();
    await identify(userId, undefined);
    await identify(userId, {});
    expect((await profile(userId)).traits).toEqual({});
  });

  it('identify with only an anonymousId keys the profile by it', async () => {
    const anon = uid('anon');
    await t.send('/v1/identify', { anonymousId: anon, traits: { theme: 'dark' }, messageId: uid('m') });
    expect((await profile(anon)).traits).toEqual({ theme: 'dark' });
  });

  it('merges the anonymous profile into the user profile: incoming, then user, then anonymous traits', async () => {
    const anon = uid('anon');
    const userId = uid();
    await t.send('/v1/identify', {
      anonymousId: anon,
      traits: { theme: 'dark', plan: 'anon-plan', lang: 'fr', nested: { a: 1, b: 1 } },
      messageId: uid('m'),
    });
    await t.send('/v1/group', {
      anonymousId: anon,
      groupId: `g-${anon}`,
      traits: { name: 'Anon Co' },
      messageId: uid('m'),
    });
    await identify(userId, { plan: 'user-plan', email: 'ada@example.com', nested: { b: 2 } });
    await identify(userId, { lang: 'en' }, { anonymousId: anon });

    const merged = await profile(userId);
    expect(merged.traits).toEqual({
      theme: 'dark',
      plan: 'user-plan',
      lang: 'en',
      email: 'ada@example.com',
      nested: { a: 1, b: 2 },
    });
    expect(merged.anonymousIds).toEqual([anon]);
    expect(merged.groups.map((g: any) => g.groupId)).toEqual([`g-${anon}`]);
    // the anonymous id now finds the user, and later anonymous events land on the user
    expect((await profile(anon)).userId).toBe(userId);
    await t.send('/v1/identify', { anonymousId: anon, traits: { seenAgain: true }, messageId: uid('m') });
    expect((await profile(userId)).traits.seenAgain).toBe(true);
    const [{ n }] = await t.db.rows<{ n: number | string }>(
      'SELECT COUNT(*) AS n FROM profiles WHERE workspace_id = ? AND user_id = ?',
      [t.ws.workspaceId, anon],
    );
    expect(Number(n)).toBe(0);
  });

  it('remembers the anonymous id of an identify with both ids even without an anonymous profile', async () => {
    const anon = uid('anon');
    const userId = uid();
    await identify(userId, { a: 1 }, { anonymousId: anon });
    expect((await profile(userId)).anonymousIds).toEqual([anon]);
  });

  it('applies a batch in order, merging inside the batch', async () => {
    const anon = uid('anon');
    const userId = uid();
    const res = await t.send('/v1/batch', {
      batch: [
        { type: 'identify', anonymousId: anon, traits: { step: 1, anonOnly: true }, messageId: uid('m') },
        { type: 'identify', userId, anonymousId: anon, traits: { step: 2 }, messageId: uid('m') },
        { type: 'identify', userId, traits: { step: 3, gone: 'soon' }, messageId: uid('m') },
        { type: 'identify', userId, traits: { gone: null }, messageId: uid('m') },
        { type: 'group', anonymousId: anon, groupId: `g-${userId}`, traits: { seats: 5 }, messageId: uid('m') },
      ],
    });
    expect(res.json()).toEqual({ success: true });
    const p = await profile(userId);
    expect(p.traits).toEqual({ step: 3, anonOnly: true });
    expect(p.groups).toEqual([{ groupId: `g-${userId}`, traits: { seats: 5 } }]);
  });

  it('alias merges the profile of previousId into userId', async () => {
    const previousId = uid('old');
    const userId = uid();
    await identify(previousId, { legacy: true, plan: 'old' });
    await identify(userId, { plan: 'new' });
    await t.send('/v1/alias', { previousId, userId, messageId: uid('m') });
    const p = await profile(userId);
    expect(p.traits).toEqual({ legacy: true, plan: 'new' });
    expect(p.anonymousIds).toEqual([previousId]);
    expect((await profile(previousId)).userId).toBe(userId);
  });

  it('group upserts the group with merged traits and adds the member once', async () => {
    const userId = uid();
    const groupId = uid('g');
    await t.send('/v1/group', {
      userId,
      groupId,
      traits: { name: 'Initech', plan: 'free', address: { city: 'Austin' } },
      messageId: uid('m'),
    });
    await t.send('/v1/group', {
      userId,
      groupId,
      traits: { plan: 'enterprise', address: { zip: '73301' }, name: null },
      messageId: uid('m'),
    });
    const other = uid();
    await t.send('/v1/group', { userId: other, groupId, messageId: uid('m') });
    const res = await t.gql(
      `query($g: String!) { group(groupId: $g) { groupId traits members(first: 10) { edges { node { userId } } pageInfo { hasNextPage } } } }`,
      { g: groupId },
    );
    expect(res.data!.group).toEqual({
      groupId,
      traits: { plan: 'enterprise', address: { city: 'Austin', zip: '73301' } },
      members: { edges: [{ node: { userId } }, { node: { userId: other } }], pageInfo: { hasNextPage: false } },
    });
    expect((await profile(userId)).groups).toEqual([
      { groupId, traits: { plan: 'enterprise', address: { city: 'Austin', zip: '73301' } } },
    ]);
  });

  it('fifty concurrent identifies for one user, each setting a different trait, keep all fifty', async () => {
    const userId = uid();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        identify(userId, { [`trait_${i}`]: i, shared: { [`k${i}`]: true } }, { anonymousId: `anon-${userId}-${i}` }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    const p = await profile(userId);
    for (let i = 0; i < 50; i++) {
      expect(p.traits[`trait_${i}`]).toBe(i);
      expect(p.traits.shared[`k${i}`]).toBe(true);
    }
    expect(Object.keys(p.traits)).toHaveLength(51);
    expect(p.anonymousIds).toHaveLength(50);
    if (isMysql()) expect(process.env.DATABASE_URL).toMatch(/^(mysql|mariadb):/);
  });

  it('fifty concurrent batches touching the same users in different orders all commit', async () => {
    const users = [uid(), uid(), uid()];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        t.send('/v1/batch', {
          batch: (i % 2 ? users : [...users].reverse()).map((userId) => ({
            type: 'identify',
            userId,
            traits: { [`b${i}`]: i },
            messageId: uid('m'),
          })),
        }),
      ),
    );
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    for (const userId of users) expect(Object.keys((await profile(userId)).traits)).toHaveLength(50);
  });
});

describe('GraphQL profile operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('mergeProfile merges like identify, replaceProfile replaces, deleteProfile deletes', async () => {
    const userId = uid();
    const merged = await t.gql(
      `mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { userId traits } }`,
      { u: userId, t: { a: { b: 1 }, c: 1 } },
    );
    expect(merged.data!.mergeProfile).toEqual({ userId, traits: { a: { b: 1 }, c: 1 } });
    const again = await t.gql(
      `mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { traits } }`,
      { u: userId, t: { a: { d: 2 }, c: null } },
    );
    expect(again.data!.mergeProfile.traits).toEqual({ a: { b: 1, d: 2 } });
    const replaced = await t.gql(
      `mutation($u: String!, $t: JSONObject!) { replaceProfile(userId: $u, traits: $t) { traits } }`,
      { u: userId, t: { only: 'this', gone: null } },
    );
    expect(replaced.data!.replaceProfile.traits).toEqual({ only: 'this' });
    const deleted = await t.gql(`mutation($u: String!) { deleteProfile(userId: $u) }`, { u: userId });
    expect(deleted.data!.deleteProfile).toBe(true);
    expect((await t.gql(PROFILE, { userId })).data!.profile).toBeNull();
    const twice = await t.gql(`mutation($u: String!) { deleteProfile(userId: $u) }`, { u: userId });
    expect(twice.data!.deleteProfile).toBe(false);
  });

  it('rejects a traits value that is not an object and an empty userId with BAD_USER_INPUT', async () => {
    const notObject = await t.gql(`mutation { mergeProfile(userId: "x", traits: [1]) { userId } }`);
    expect(notObject.errors![0].extensions!.code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    const empty = await t.gql(`mutation { mergeProfile(userId: "", traits: {}) { userId } }`);
    expect(empty.errors![0]).toMatchObject({
      message: 'userId must be a non-empty string of at most 255 characters',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  describe('profiles(filter)', () => {
    let ws: Awaited<ReturnType<TestApp['newWorkspace']>>;
    const q = `query($f: ProfileFilter, $first: Int, $after: String) { profiles(first: $first, after: $after, filter: $f) { edges { cursor node { userId } } pageInfo { hasNextPage endCursor } } }`;
    const ids = async (filter: unknown) => {
      const res = await t.gql(q, { f: filter, first: 500 }, ws.adminKey);
      expect(res.errors).toBeUndefined();
      return res.data!.profiles.edges.map((e: any) => e.node.userId).sort();
    };

    beforeAll(async () => {
      ws = await t.newWorkspace();
      const send = (body: unknown) => t.send('/segment', body, ws.ingestKey);
      await send(fixture('engage-audience-identify', { userId: 'aud-in' }));
      await send(
        fixture('engage-audience-identify', {
          userId: 'aud-out',
          traits: { email: 'out@example.com', order_completed_last_30days: false },
        }),
      );
      await send(
        fixture('identify', {
          userId: 'carol',
          anonymousId: undefined,
          traits: {
            email: 'Carol.Smith@Example.com',
            order_completed_last_30days: 'true',
            plan: 'pro',
            seats: 5,
            address: { city: 'Paris' },
            tags: ['a', 'b'],
            none: null,
          },
        }),
      );
      await send(
        fixture('identify', {
          userId: 'dave_100%',
          anonymousId: undefined,
          traits: { plan: 'Pro', seats: 5.0, tier: 1, address: { city: 'paris' }, tags: ['b', 'a'] },
        }),
      );
    });

    it('keeps Engage audience members by trait equality, with JSON types respected', async () => {
      expect(await ids({ trait: 'order_completed_last_30days', equals: true })).toEqual(['aud-in']);
      expect(await ids({ trait: 'order_completed_last_30days', equals: false })).toEqual(['aud-out']);
      expect(await ids({ trait: 'order_completed_last_30days', equals: 'true' })).toEqual(['carol']);
    });

    it('compares strings exactly, numbers numerically, nested paths, objects and arrays', async () => {
      expect(await ids({ trait: 'plan', equals: 'pro' })).toEqual(['carol']);
      expect(await ids({ trait: 'seats', equals: 5 })).toEqual(['carol', 'dave_100%']);
      expect(await ids({ trait: 'tier', equals: true })).toEqual([]);
      expect(await ids({ trait: 'address.city', equals: 'Paris' })).toEqual(['carol']);
      expect(await ids({ trait: 'address', equals: { city: 'paris' } })).toEqual(['dave_100%']);
      expect(await ids({ trait: 'missing', equals: null })).toEqual([]);
    });

    it('searches user ids and emails as case-insensitive substrings, with LIKE wildcards taken literally', async () => {
      expect(await ids({ search: 'carol.smith@example' })).toEqual(['carol']);
      expect(await ids({ search: 'AUD-' })).toEqual(['aud-in', 'aud-out']);
      expect(await ids({ search: '100%' })).toEqual(['dave_100%']);
      expect(await ids({ search: '_' })).toEqual(['dave_100%']);
      expect(await ids({ search: 'example.com', trait: 'order_completed_last_30days', equals: true })).toEqual([
        'aud-in',
      ]);
    });

    it('paginates with cursors and rejects bad arguments with BAD_USER_INPUT', async () => {
      const first = await t.gql(q, { first: 3 }, ws.adminKey);
      expect(first.data!.profiles.edges).toHaveLength(3);
      expect(first.data!.profiles.pageInfo.hasNextPage).toBe(true);
      const next = await t.gql(q, { first: 3, after: first.data!.profiles.pageInfo.endCursor }, ws.adminKey);
      expect(next.data!.profiles.edges).toHaveLength(1);
      expect(next.data!.profiles.pageInfo.hasNextPage).toBe(false);
      for (const [vars, message] of [
        [{ first: 0 }, 'first must be between 1 and 500, got 0'],
        [{ first: 501 }, 'first must be between 1 and 500, got 501'],
        [{ after: 'garbage' }, '"garbage" is not a cursor of this list'],
        [{ f: { trait: 'plan' } }, 'filter.trait needs filter.equals (the value to compare with)'],
        [{ f: { equals: 1 } }, 'filter.equals needs filter.trait (the dotted trait path to compare)'],
        [
          { f: { trait: 'a..b', equals: 1 } },
          'filter.trait: "a..b" is not a valid path: use dot-separated keys without quotes or backslashes',
        ],
      ] as const) {
        const res = await t.gql(q, vars, ws.adminKey);
        expect(res.errors![0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
      }
    });
  });
});
