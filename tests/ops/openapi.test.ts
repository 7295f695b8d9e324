import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { SEGMENT_SCHEMAS, SEGMENT_TYPES } from '../../src/ingest/segment/segment.schemas';
import { stripAjvKeywords } from '../../src/ingest/segment/openapi';
import { basic, FIXTURES, fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';

const INGEST_PATHS = ['/segment', '/inbound/segment', ...SEGMENT_TYPES.map((t) => `/v1/${t}`), '/v1/batch'];
const ERROR_STATUSES = ['400', '401', '403', '413', '429', '501', '503'];

/** GET /openapi.json, checked against the real routes with the real fixtures. */
describe('OpenAPI document of the ingest routes', () => {
  let t: TestApp;
  let doc: any;
  let ajv: Ajv;

  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json();
    // the document as one schema: its parts are compiled by JSON pointer, $refs resolve inside it
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('iso-date-time', { type: 'string', validate: (v: string) => !Number.isNaN(Date.parse(v)) });
    ajv.addSchema(doc, 'openapi.json');
  });
  afterAll(async () => {
    await t.close();
  });

  const compile = (pointer: string): ValidateFunction => {
    const validate = ajv.getSchema(`openapi.json#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return validate;
  };
  const escape = (p: string) => p.replace(/~/g, '~0').replace(/\//g, '~1');
  const requestSchema = (route: string) =>
    compile(`/paths/${escape(route)}/post/requestBody/content/application~1json/schema`);
  const responseSchema = (route: string, status: number) =>
    compile(`/paths/${escape(route)}/post/responses/${status}/content/application~1json/schema`);

  /** The real response is documented for the route: its status, and its body by the schema. */
  function expectDocumented(route: string, res: { statusCode: number; json(): unknown }) {
    const responses = doc.paths[route].post.responses;
    expect(Object.keys(responses)).toContain(String(res.statusCode));
    const validate = responseSchema(route, res.statusCode);
    const body = res.json();
    if (!validate(body))
      throw new Error(`${route} ${res.statusCode} ${JSON.stringify(body)}: ${ajv.errorsText(validate.errors)}`);
  }

  it('is OpenAPI 3.1 with every ingest route, both auth schemes and every documented error', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(doc.paths).sort()).toEqual([...INGEST_PATHS].sort());
    expect(doc.components.securitySchemes.basicAuth).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.info.description).toContain('writeKey');
    for (const route of INGEST_PATHS) {
      const op = doc.paths[route].post;
      expect(op.security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }, {}]);
      for (const status of ERROR_STATUSES) {
        expect(op.responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      }
      expect(op.responses['429'].headers['Retry-After']).toBeDefined();
      const success = route.startsWith('/v1/') ? '200' : '202';
      expect(op.responses[success]).toBeDefined();
      const body = op.requestBody.content['application/json'].schema;
      const writeKey = (name: string) => doc.components.schemas[name].properties.writeKey;
      const name = body.$ref.split('/').pop();
      if (name !== 'SegmentMessage') expect(writeKey(name)).toMatchObject({ type: 'string' });
    }
    expect(doc.components.schemas.Error).toMatchObject({
      required: ['message'],
      properties: { message: { type: 'string' }, code: { type: 'string' } },
    });
  });

  it('embeds the validator schemas themselves, without ajv-only keywords', () => {
    const text = JSON.stringify(doc);
    expect(text).not.toContain('errorMessage');
    expect(text).not.toContain('"$id"');
    for (const type of SEGMENT_TYPES) {
      const name = `${type[0].toUpperCase()}${type.slice(1)}Message`;
      const embedded = doc.components.schemas[name];
      const source = stripAjvKeywords(SEGMENT_SCHEMAS[type]) as any;
      const { writeKey, ...properties } = embedded.properties;
      expect(writeKey).toBeDefined();
      expect(properties).toEqual(source.properties);
      expect(embedded.required).toEqual(source.required);
      expect(embedded.anyOf).toEqual(source.anyOf);
    }
    expect(doc.components.schemas.TrackMessage.required).toContain('event');
    expect(doc.components.schemas.GroupMessage.required).toContain('groupId');
    expect(doc.components.schemas.AliasMessage.required).toEqual(['previousId', 'userId']);
  });

  it('accepts every real fixture, and the server accepts it with a documented response', async () => {
    const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      const body = fixture(path.basename(file, '.json'));
      if (Array.isArray(body.batch)) {
        body.batch = body.batch.map((item: any) => ({ ...item, messageId: `${item.messageId}-${uid()}` }));
        const validate = requestSchema('/v1/batch');
        if (!validate(body)) throw new Error(`${file}: ${ajv.errorsText(validate.errors)}`);
        delete body.writeKey; // the fixture's key is an example; authenticate with the workspace's
        const res = await t.send('/v1/batch', body);
        expect(res.statusCode).toBe(200);
        expectDocumented('/v1/batch', res);
        continue;
      }
      for (const route of ['/segment', '/inbound/segment', `/v1/${body.type}`]) {
        const validate = requestSchema(route);
        if (!validate(body)) throw new Error(`${file} for ${route}: ${ajv.errorsText(validate.errors)}`);
        const res = await t.send(route, { ...body, messageId: uid('m') });
        expect(res.statusCode).toBe(route.startsWith('/v1/') ? 200 : 202);
        expectDocumented(route, res);
      }
    }
  });

  it('refuses what the server refuses, and every refusal is a documented error', async () => {
    const invalid: [string, Record<string, unknown>][] = [
      ['/segment', { type: 'track', userId: uid() }], // no event
      ['/v1/group', { userId: uid() }], // no groupId
      ['/v1/alias', { previousId: uid() }], // no userId
      ['/v1/identify', { userId: uid(), traits: 'not an object' }],
      ['/v1/identify', { traits: { a: 1 } }], // no identity
      ['/v1/track', { userId: uid(), event: 'E', timestamp: 'yesterday' }],
    ];
    for (const [route, body] of invalid) {
      expect(requestSchema(route)(body)).toBe(false);
      const res = await t.send(route, body);
      expect(res.statusCode).toBe(400);
      expectDocumented(route, res);
    }
  });

  it('documents each real error answer: 400, 401, 403, 413, 415, 501', async () => {
    const track = () => fixture('track', { userId: uid() });
    const post = (url: string, payload: string, headers: Record<string, string> = {}) =>
      t.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', ...headers } });

    const cases: [string, Promise<any>, number][] = [
      ['/segment', post('/segment', '{"type": "track",', { authorization: basic(t.ws.ingestKey) }), 400],
      ['/segment', post('/segment', JSON.stringify(track())), 401],
      ['/v1/track', post('/v1/track', JSON.stringify(track()), { authorization: 'Bearer nope' }), 401],
      ['/v1/batch', t.send('/v1/batch', { batch: Array.from({ length: 2501 }, () => ({})) }), 413],
      ['/segment', t.send('/segment', { ...track(), properties: { big: 'x'.repeat(33 * 1024) } }), 413],
      ['/segment', t.send('/segment', { type: 'purchase', userId: uid() }), 501],
      [
        '/v1/page',
        t.inject({
          method: 'POST',
          url: '/v1/page',
          payload: 'a=b',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(t.ws.ingestKey) },
        }),
        415,
      ],
    ];
    for (const [route, pending, status] of cases) {
      const res = await pending;
      expect(res.statusCode).toBe(status);
      expectDocumented(route, res);
    }
    expect((await t.send('/segment', { type: 'purchase', userId: uid() })).json()).toMatchObject({
      message: 'Event Type Unsupported: purchase',
    });

    // a revoked key: 403
    const created = await t.gql<any>(
      'mutation { createApiKey(scope: INGEST, name: "revoked") { apiKey { id } secret } }',
    );
    const { id } = created.data.createApiKey.apiKey;
    await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id });
    const revoked = await t.send('/v1/track', track(), created.data.createApiKey.secret);
    expect(revoked.statusCode).toBe(403);
    expectDocumented('/v1/track', revoked);

    // writeKey in the body is the third way in
    const res = await post('/v1/identify', JSON.stringify({ userId: uid(), writeKey: t.ws.ingestKey }));
    expect(res.statusCode).toBe(200);
    expectDocumented('/v1/identify', res);
  });

  it('documents the batch answer with rejected items', async () => {
    const body = {
      batch: [
        { type: 'track', userId: uid(), event: 'Ok' },
        { type: 'track', userId: uid() },
      ],
    };
    expect(requestSchema('/v1/batch')(body)).toBe(false); // the document says what is valid…
    const res = await t.send('/v1/batch', body); // …the server stores the valid items and lists the others
    expect(res.json()).toEqual({ success: true, rejected: [{ index: 1, message: 'track requires event' }] });
    expectDocumented('/v1/batch', res);
  });
});
