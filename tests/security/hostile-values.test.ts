import { MAX_JSON_DEPTH } from '../../src/domain/json-input';
import { nested } from '../helpers/fuzz';
import { basic, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * What fuzzing found (docs/guarantees.md, "Only valid events are stored"), pinned down on every engine: values that
 * parse as JSON but that a database could not store (or that crashed normalisation) are refused with a 4xx, or stored
 * safely — never a 5xx, and never a 503 that Segment would retry for hours.
 */
describe('hostile values found by fuzzing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const raw = (url: string, payload: string) =>
    t.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', authorization: basic(t.ws.ingestKey) },
      payload,
    });
  const traitsOf = async (userId: string) =>
    (await t.gql('query($u: String!) { profile(userId: $u) { traits } }', { u: userId })).data!.profile?.traits;

  describe(`nesting: at most ${MAX_JSON_DEPTH} levels (MariaDB stores 32 at most)`, () => {
    it('a message nested one level too deep is 400 on every route, a rejected entry in a batch', async () => {
      // the message is level 1: its traits may nest 19 levels
      const ok = { userId: uid(), traits: nested('object', MAX_JSON_DEPTH - 1) };
      const deep = { userId: uid(), traits: nested('object', MAX_JSON_DEPTH) };
      expect((await t.send('/v1/identify', ok)).statusCode).toBe(200);
      expect(await traitsOf(ok.userId)).toEqual(ok.traits);
      for (const route of ['/segment', '/inbound/segment', '/v1/identify']) {
        const res = await t.send(route, { type: 'identify', ...deep });
        expect(res.statusCode).toBe(400);
        expect(res.json()).toEqual({
          code: 'INVALID_EVENT',
          message: `a message may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep`,
        });
      }
      const batch = await t.send('/v1/batch', {
        batch: [
          { type: 'identify', ...deep },
          { type: 'page', userId: uid() },
        ],
      });
      expect(batch.json()).toEqual({
        success: true,
        rejected: [
          { index: 0, message: `a message may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep` },
        ],
      });
      expect(await traitsOf(deep.userId)).toBeUndefined();
    });

    it('80,000 levels of nesting are 400, not a stack overflow', async () => {
      const n = 80_000;
      const res = await raw(
        '/v1/track',
        `{"userId":"u","event":"e","properties":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
      );
      expect(res.statusCode).toBe(400);
      const arrays = await raw('/segment', '['.repeat(200_000) + ']'.repeat(200_000));
      expect(arrays.statusCode).toBe(400);
    });

    it('a batch context is merged into every item: the item’s limits hold for the merged message', async () => {
      const context = { blob: 'x'.repeat(20_000) };
      const item = (n: number) => ({
        type: 'track',
        userId: uid(),
        event: 'Merged',
        properties: { pad: 'y'.repeat(n) },
      });
      const res = await t.send('/v1/batch', { batch: [item(10), item(15_000)], context });
      expect(res.statusCode).toBe(200);
      expect(res.json().rejected).toEqual([
        { index: 1, message: expect.stringMatching(/one message may be at most 32 KB$/) },
      ]);
      const deepContext = await t.send('/v1/batch', {
        batch: [{ type: 'page', userId: uid() }],
        context: { x: nested('object', MAX_JSON_DEPTH) },
      });
      expect(deepContext.json().rejected).toHaveLength(1);
    });

    it('GraphQL JSON arguments nested too deep are BAD_USER_INPUT (400), in variables and literals', async () => {
      const ok = await t.gql('mutation($t: JSONObject!) { mergeProfile(userId: "depth-ok", traits: $t) { userId } }', {
        t: nested('object', MAX_JSON_DEPTH) as object,
      });
      expect(ok.errors).toBeUndefined();
      for (const [query, variables] of [
        [
          'mutation($t: JSONObject!) { mergeProfile(userId: "deep", traits: $t) { userId } }',
          { t: nested('object', MAX_JSON_DEPTH + 1) },
        ],
        [
          'mutation($i: SendInput!) { send(input: $i) { id } }',
          { i: { userId: 'u', templateKey: 'k', data: nested('object', 3000) } },
        ],
        [`mutation { replaceProfile(userId: "deep", traits: ${'{a: '.repeat(40)}1${'}'.repeat(40)}) { userId } }`, {}],
      ] as const) {
        const res = await t.inject({
          method: 'POST',
          url: '/graphql',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
          payload: JSON.stringify({ query, variables }),
        });
        expect(res.statusCode).toBe(400);
        expect(res.json().errors[0]).toMatchObject({
          message: expect.stringContaining(`nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`),
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      expect(await traitsOf('deep')).toBeUndefined();
    });
  });

  describe('lone surrogates (not Unicode; MariaDB refuses them in JSON, ids would merge)', () => {
    it('in an id: 400; elsewhere in a message: stored with U+FFFD instead', async () => {
      for (const route of ['/v1/identify', '/segment']) {
        const res = await raw(route, '{"type":"identify","userId":"user-\\ud800","traits":{"a":1}}');
        expect(res.statusCode).toBe(400);
        expect(res.json().message).toBe('userId must be valid Unicode (it holds a lone surrogate)');
      }
      const track = await raw('/v1/track', '{"userId":"u-1","event":"cut \\udfff","properties":{}}');
      expect(track.json().message).toBe('event must be valid Unicode (it holds a lone surrogate)');

      const userId = uid();
      const res = await raw(
        '/v1/identify',
        `{"userId":"${userId}","traits":{"title":"cut 🙂\\ud83d","k\\udfffey":{"x":"\\ud800"}}}`,
      );
      expect(res.statusCode).toBe(200);
      expect(await traitsOf(userId)).toEqual({ title: 'cut 🙂\uFFFD', 'k\uFFFDey': { x: '\uFFFD' } });
    });

    it('GraphQL: a string or JSON argument with a lone surrogate is BAD_USER_INPUT', async () => {
      for (const [query, variables] of [
        ['mutation($u: String!) { mergeProfile(userId: $u, traits: {a: 1}) { userId } }', { u: 'x\ud800' }],
        ['mutation($t: JSONObject!) { mergeProfile(userId: "ok", traits: $t) { userId } }', { t: { a: ['\udfff'] } }],
        ['mutation($t: JSONObject!) { mergeProfile(userId: "ok", traits: $t) { userId } }', { t: { 'k\ud800': 1 } }],
      ] as const) {
        const res = await t.gql(query, variables);
        expect(res.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
        expect(res.errors![0].message).toContain('not valid Unicode');
      }
      expect(await traitsOf('ok')).toBeUndefined();
    });
  });

  it('trait keys MariaDB cannot address with a JSON path ("-a", BOM) are merged and deleted like any other', async () => {
    const userId = uid();
    const keys = ['-a', '-0', '\uFEFF', 'a.b', '$where', '', '__proto__'];
    const traits = Object.fromEntries(keys.map((k) => [k, { keep: 1, drop: 2 }]));
    const body = JSON.stringify({ userId, traits: { ...traits, plain: 1 } });
    expect((await raw('/v1/identify', body)).statusCode).toBe(200);
    // delete one key of each and a whole key, update a sibling in the same call
    const patch = Object.fromEntries(keys.map((k) => [k, { drop: null }]));
    const res = await raw('/v1/identify', JSON.stringify({ userId, traits: { ...patch, '-gone': null, plain: 2 } }));
    expect(res.statusCode).toBe(200);
    const expected = Object.fromEntries(keys.map((k) => [k, { keep: 1 }]));
    expect(await traitsOf(userId)).toEqual({ ...expected, plain: 2 });
    const gone = await raw('/v1/identify', JSON.stringify({ userId, traits: { '-a': null, '-0': null, plain: 3 } }));
    expect(gone.statusCode).toBe(200);
    const after = await traitsOf(userId);
    expect(Object.keys(after).sort()).toEqual(['', '$where', '__proto__', 'a.b', 'plain', '\uFEFF'].sort());
    expect(after.plain).toBe(3);
  });

  it('trailing spaces of Segment ids are dropped at ingest on every engine: a repeat is a duplicate', async () => {
    const messageId = uid('m');
    const userId = uid();
    expect((await t.send('/segment', { type: 'identify', userId, messageId, traits: { n: 1 } })).statusCode).toBe(202);
    const again = await t.send('/segment', {
      type: 'identify',
      userId: `${userId}  `,
      messageId: `${messageId} `,
      traits: { n: 2 },
    });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ messageId });
    expect(await traitsOf(userId)).toEqual({ n: 1 }); // applied once
    expect((await t.send('/v1/identify', { userId: `${userId} `, traits: { m: 1 } })).statusCode).toBe(200);
    expect(await traitsOf(userId)).toEqual({ n: 1, m: 1 }); // the same profile
    expect((await t.send('/v1/identify', { userId: '   ', traits: {} })).statusCode).toBe(400);
  });

  it('ids are strings or numbers: an object where a type does not need one is ignored, not a crash', async () => {
    for (const type of ['page', 'screen', 'track', 'identify']) {
      const res = await raw(
        `/v1/${type}`,
        `{"userId":"u-${type}","event":"E","groupId":{"toString":{}},"previousId":[{"valueOf":[]}]}`,
      );
      expect(res.statusCode).toBe(200);
    }
  });

  it('a timestamp outside the years 1000–9999 (as given or after the skew correction) is 400', async () => {
    for (const message of [
      { userId: 'u', timestamp: '0999-12-31T23:59:59Z' },
      { userId: 'u', originalTimestamp: '0001-01-01T00:00:00Z', sentAt: '9999-01-01T00:00:00Z' },
    ]) {
      const res = await t.send('/v1/page', message);
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/^timestamp must fall between the years 1000 and 9999/);
    }
    expect((await t.send('/v1/page', { userId: 'u', timestamp: '1000-01-01T00:00:00Z' })).statusCode).toBe(200);
  });
});
