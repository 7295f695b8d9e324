import { basic, startTestApp, uid, type TestApp } from '../helpers/test-app';

/**
 * `__proto__`, `constructor` and `prototype` keys in traits (and other JSON inputs) are stored as data,
 * read back as data, and never reach an object's prototype — through ingest and through GraphQL,
 * in variables and in query literals.
 */
const HOSTILE =
  '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"nested":{"__proto__":{"polluted":"yes"},"prototype":{"x":1}},"name":"Eve"}';

describe('prototype pollution', () => {
  let t: TestApp;
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

  /** A raw GraphQL call: the body is sent as written, so `__proto__` is a real key of the JSON text. */
  async function rawGql(body: string) {
    const res = await t.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.ws.adminKey}` },
      payload: body,
    });
    return res.json();
  }

  async function traitsOf(userId: string) {
    const res = await t.gql('query($u: String!) { profile(userId: $u) { traits } }', { u: userId });
    return res.data!.profile?.traits;
  }

  function expectStoredAsData(traits: Record<string, unknown>) {
    expect(Object.keys(traits).sort()).toEqual(['__proto__', 'constructor', 'name', 'nested']);
    expect(JSON.stringify(traits)).toContain('"__proto__":{"polluted":"yes"}');
    expect((traits.nested as Record<string, unknown>).prototype).toEqual({ x: 1 });
    expect(Object.getPrototypeOf(traits)).toBe(Object.prototype);
    expect(traits.name).toBe('Eve');
  }

  function expectNoPollution() {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => {
    expectNoPollution();
    return t.close();
  });

  it('GraphQL mergeProfile: hostile keys in variables are stored as data', async () => {
    const userId = uid();
    const res = await rawGql(
      `{"query":"mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { traits } }","variables":{"u":"${userId}","t":${HOSTILE}}}`,
    );
    expect(res.errors).toBeUndefined();
    expectStoredAsData(res.data.mergeProfile.traits);
    expectStoredAsData(await traitsOf(userId));
    expectNoPollution();

    // merging again merges into the data keys, and null deletes them (RFC 7396)
    const again = await rawGql(
      `{"query":"mutation($u: String!, $t: JSONObject!) { mergeProfile(userId: $u, traits: $t) { traits } }","variables":{"u":"${userId}","t":{"__proto__":{"more":1},"constructor":null}}}`,
    );
    expect(again.errors).toBeUndefined();
    const traits = await traitsOf(userId);
    expect(Object.keys(traits).sort()).toEqual(['__proto__', 'name', 'nested']);
    expect(JSON.stringify(traits)).toContain('"__proto__":{"polluted":"yes","more":1}');
    expectNoPollution();
  });

  it('GraphQL replaceProfile: hostile keys in variables are stored as data', async () => {
    const userId = uid();
    await t.gql('mutation($u: String!) { mergeProfile(userId: $u, traits: {old: true}) { userId } }', { u: userId });
    const res = await rawGql(
      `{"query":"mutation($u: String!, $t: JSONObject!) { replaceProfile(userId: $u, traits: $t) { traits } }","variables":{"u":"${userId}","t":${HOSTILE}}}`,
    );
    expect(res.errors).toBeUndefined();
    expectStoredAsData(await traitsOf(userId));
    expectNoPollution();
  });

  it('GraphQL object literals with __proto__ keys are data too (mergeProfile and replaceProfile)', async () => {
    for (const mutation of ['mergeProfile', 'replaceProfile']) {
      const userId = uid();
      const res = await t.gql(
        `mutation($u: String!) { ${mutation}(userId: $u, traits: {
          __proto__: {polluted: "yes"}, constructor: {prototype: {polluted: "yes"}},
          nested: {__proto__: {polluted: "yes"}, prototype: {x: 1}}, name: "Eve" }) { userId } }`,
        { u: userId },
      );
      expect(res.errors).toBeUndefined();
      expectStoredAsData(await traitsOf(userId));
      expectNoPollution();
    }
  });

  it('ingest: identify, group and a batch with hostile context are stored as data', async () => {
    const userId = uid();
    const groupId = uid('g');
    const post = (url: string, payload: string) =>
      t.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: basic(t.ws.ingestKey) },
        payload,
      });
    expect((await post('/v1/identify', `{"userId":"${userId}","traits":${HOSTILE}}`)).statusCode).toBe(200);
    expectStoredAsData(await traitsOf(userId));
    expect(
      (await post('/v1/group', `{"userId":"${userId}","groupId":"${groupId}","traits":${HOSTILE}}`)).statusCode,
    ).toBe(200);
    const group = await t.gql('query($g: String!) { group(groupId: $g) { traits } }', { g: groupId });
    expectStoredAsData(group.data!.group.traits);

    const batch = await post(
      '/v1/batch',
      `{"batch":[{"type":"track","userId":"${userId}","event":"Proto","properties":${HOSTILE}}],"context":{"__proto__":{"polluted":"yes"},"ip":"1.2.3.4"},"integrations":{"__proto__":{"polluted":"yes"}}}`,
    );
    expect(batch.statusCode).toBe(200);
    expect(batch.json()).toEqual({ success: true });
    const events = await t.gql('{ events(first: 1, filter: {type: TRACK}) { edges { node { name payload } } } }');
    const payload = events.data!.events.edges[0].node.payload;
    expect(events.data!.events.edges[0].node.name).toBe('Segment-TrackEvent:Proto');
    expectStoredAsData(payload.properties);
    expect(payload.context.ip).toBe('1.2.3.4');
    expect(JSON.stringify(payload.context)).toContain('"__proto__":{"polluted":"yes"}');
    expectNoPollution();
  });

  it('other JSON inputs: send data and a routing condition', async () => {
    const tpl = await t.gql(
      'mutation { createTemplate(input: {key: "proto", name: "p", channels: [WEBHOOK], content: {webhook: {body: "{{data.name}}"}}}) { id } }',
    );
    await t.gql(`mutation { publishTemplate(id: "${tpl.data!.createTemplate.id}") { id } }`);
    const sent = await rawGql(
      `{"query":"mutation($d: JSONObject) { send(input: {userId: \\"${uid()}\\", templateKey: \\"proto\\", data: $d}) { data } }","variables":{"d":${HOSTILE}}}`,
    );
    expect(sent.errors).toBeUndefined();
    expectStoredAsData(sent.data.send.data);

    const rule = await rawGql(
      `{"query":"mutation($w: JSONObject) { createRoutingRule(input: {name: \\"p\\", priority: 0, action: SUPPRESS, when: $w}) { id } }","variables":{"w":{"__proto__":{"path":"data.x","op":"EQ","value":1}}}}`,
    );
    expect(rule.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    expectNoPollution();
  });
});
