import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import Analytics from '@rudderstack/rudder-sdk-node';
import { inflateBody } from '../../src/ingest/request-body';
import { basic, fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';

const run = promisify(execFile);

/** One megabyte of zeros, gzipped (about 1 KB). */
const MB_OF_ZEROS = zlib.gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });

/**
 * `mb` megabytes of zeros as gzip: that many gzip members one after the other (gunzip reads them as one
 * body), so the test never holds the inflated bomb itself.
 */
const gzipZeros = (mb: number): Buffer => Buffer.concat(Array.from({ length: mb }, () => MB_OF_ZEROS));

describe('compressed ingest bodies (Content-Encoding gzip / deflate)', () => {
  let t: TestApp;
  let host: string;
  let dir: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    host = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-gzip-'));
  });
  afterAll(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  const storedFor = async (userId: string) =>
    t.db.rows<{ type: string; name: string }>('SELECT type, name FROM inbound_events WHERE user_id = ? ORDER BY id', [
      userId,
    ]);

  function post(url: string, payload: Buffer | string, headers: Record<string, string>) {
    return t.inject({
      method: 'POST',
      url,
      payload,
      headers: { authorization: basic(t.ws.ingestKey), ...headers },
    });
  }

  const batchOf = (userId: string, n = 3) => ({
    batch: Array.from({ length: n }, (_, i) => fixture('track', { userId, event: `Zipped ${i}`, messageId: uid('m') })),
  });

  it('@rudderstack/rudder-sdk-node with its defaults (gzip, form content type) stores every event', async () => {
    const errors: unknown[] = [];
    const analytics = new Analytics(t.ws.ingestKey, {
      dataPlaneUrl: host,
      flushInterval: 50,
      retryCount: 0,
      logLevel: 'error',
      errorHandler: (err) => errors.push(err),
    });
    const userId = uid();
    analytics.identify({ userId, traits: { email: 'rudder@example.com', plan: 'pro' } });
    analytics.track({ userId, event: 'Order Completed', properties: { orderId: 'R-1', total: 9.5 } });
    analytics.group({ userId, groupId: uid('g'), traits: { name: 'Rudder Co' } });
    analytics.page({ userId, name: 'Home' });
    await analytics.flush();
    await analytics.flush();
    expect(errors).toEqual([]);

    const rows = await storedFor(userId);
    expect(rows.map((r) => r.type)).toEqual(['IDENTIFY', 'TRACK', 'GROUP', 'PAGE']);
    const res = await t.gql('query($u: String!) { profile(userId: $u) { traits } }', { u: userId });
    expect(res.data!.profile.traits).toEqual({ email: 'rudder@example.com', plan: 'pro' });
  });

  it('curl --data-binary @x.gz with Content-Encoding: gzip, also without any content type', async () => {
    const userId = uid();
    const file = path.join(dir, 'x.gz');
    fs.writeFileSync(file, zlib.gzipSync(JSON.stringify(batchOf(userId, 2))));
    const curl = (...args: string[]) =>
      run('curl', ['-sS', '-w', '\n%{http_code}', '-u', `${t.ws.ingestKey}:`, '--data-binary', `@${file}`, ...args]);

    const json = await curl('-H', 'Content-Encoding: gzip', '-H', 'Content-Type: application/json', `${host}/v1/batch`);
    expect(json.stdout.split('\n')).toEqual(['{"success":true}', '200']);
    // curl's default content type (application/x-www-form-urlencoded), then none at all
    const form = await curl('-H', 'Content-Encoding: gzip', `${host}/v1/batch`);
    expect(form.stdout.split('\n')).toEqual(['{"success":true}', '200']);
    const none = await curl('-H', 'Content-Encoding: gzip', '-H', 'Content-Type:', `${host}/v1/batch`);
    expect(none.stdout.split('\n')).toEqual(['{"success":true}', '200']);

    // a bomb over a real socket: answered 413 with the JSON error body, the connection closed
    const bomb = path.join(dir, 'bomb.gz');
    fs.writeFileSync(bomb, gzipZeros(400));
    const refused = await run('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-u',
      `${t.ws.ingestKey}:`,
      '--data-binary',
      `@${bomb}`,
      '-H',
      'Content-Encoding: gzip',
      '-H',
      'Content-Type: application/json',
      `${host}/v1/batch`,
    ]);
    expect(refused.stdout.split('\n')).toEqual([
      '{"message":"The request body is over 500 KB once decompressed","code":"PAYLOAD_TOO_LARGE"}',
      '413',
    ]);

    // the same messageIds three times: stored once
    expect((await storedFor(userId)).map((r) => r.name)).toEqual([
      'Segment-TrackEvent:Zipped 0',
      'Segment-TrackEvent:Zipped 1',
    ]);
  });

  it('every ingest route accepts gzip, deflate and x-gzip bodies', async () => {
    const routes = ['/segment', '/inbound/segment', '/v1/track', '/v1/identify', '/v1/group', '/v1/page'];
    routes.push('/v1/screen', '/v1/alias', '/v1/batch');
    const encodings: [string, (b: Buffer) => Buffer][] = [
      ['gzip', (b) => zlib.gzipSync(b)],
      ['deflate', (b) => zlib.deflateSync(b)],
      ['x-gzip', (b) => zlib.gzipSync(b)],
      ['GZIP, identity', (b) => zlib.gzipSync(b)],
    ];
    for (const route of routes) {
      for (const [encoding, compress] of encodings) {
        const userId = uid();
        const type = route.startsWith('/v1/') && route !== '/v1/batch' ? route.slice(4) : 'track';
        // screen has no fixture of its own: a page message under /v1/screen (the route decides the type)
        const msg = fixture(type === 'screen' ? 'page' : type, { userId, messageId: uid('m') });
        if (type === 'alias') msg.previousId = uid('prev');
        const body = route === '/v1/batch' ? { batch: [msg] } : msg;
        const res = await post(route, compress(Buffer.from(JSON.stringify(body))), {
          'content-type': 'application/json',
          'content-encoding': encoding,
        });
        expect({ route, encoding, status: res.statusCode }).toEqual({
          route,
          encoding,
          status: route.endsWith('segment') ? 202 : 200,
        });
        expect(await storedFor(userId)).toHaveLength(1);
      }
    }
  });

  it('a decompression bomb (10 MB and 400 MB of zeros) is 413 at once, in bounded memory, storing nothing', async () => {
    for (const mb of [10, 400]) {
      const bomb = gzipZeros(mb);
      expect(bomb.length).toBeLessThan(500 * 1024); // small enough to pass the limit on the compressed size
      const before = process.memoryUsage();
      const started = Date.now();
      const res = await post('/v1/batch', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      const ms = Date.now() - started;
      const after = process.memoryUsage();
      expect(res.statusCode).toBe(413);
      expect(res.json()).toEqual({
        message: 'The request body is over 500 KB once decompressed',
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(ms).toBeLessThan(3000);
      // inflating 400 MB would show as hundreds of MB here; stopping after 500 KB stays far below
      expect(after.rss + after.arrayBuffers - before.rss - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
    }
    const deflateBomb = zlib.deflateSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
    const res = await post('/segment', deflateBomb, { 'content-encoding': 'deflate' });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('the decompressor stops reading the compressed stream once the limit is passed', async () => {
    const bomb = gzipZeros(400);
    const pieces = Array.from({ length: Math.ceil(bomb.length / 1024) }, (_, i) =>
      bomb.subarray(i * 1024, (i + 1) * 1024),
    );
    const body = inflateBody(Readable.from(pieces, { objectMode: false }), 'gzip', 500 * 1024);
    let out = 0;
    const err = await new Promise<Error & { statusCode?: number }>((resolve) => {
      body.on('data', (c: Buffer) => (out += c.length));
      body.on('error', resolve);
    });
    expect(err.statusCode).toBe(413);
    expect(out).toBeLessThanOrEqual(500 * 1024);
    // 400 MB of zeros are about 410 KB of gzip; only the first few KB of it were read (plus stream buffers)
    expect(body.receivedEncodedLength).toBeLessThan(64 * 1024);
  });

  it('the limits apply to the decompressed size: 413 for a message over 32 KB and a request over 500 KB', async () => {
    const userId = uid();
    const big = fixture('track', { userId, properties: { blob: 'x'.repeat(33 * 1024) } });
    const one = await post('/v1/track', zlib.gzipSync(JSON.stringify(big)), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(one.statusCode).toBe(413);
    expect(one.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('32 KB') });

    const huge = {
      batch: Array.from({ length: 20 }, () =>
        fixture('track', { userId, properties: { blob: 'y'.repeat(30 * 1024) } }),
      ),
    };
    const zipped = zlib.gzipSync(JSON.stringify(huge));
    expect(zipped.length).toBeLessThan(32 * 1024);
    const many = await post('/v1/batch', zipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(many.statusCode).toBe(413);
    expect(many.json()).toEqual({
      message: 'The request body is over 500 KB once decompressed',
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(await storedFor(userId)).toHaveLength(0);
  });

  it('a corrupt or truncated stream is 400, an unsupported encoding 415, storing nothing', async () => {
    const userId = uid();
    const good = zlib.gzipSync(JSON.stringify(batchOf(userId)));
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 12, 40);
    const cases: [string, Buffer | string, string, number, string][] = [
      ['corrupt gzip', corrupt, 'gzip', 400, 'MALFORMED_REQUEST'],
      ['truncated gzip', good.subarray(0, good.length - 10), 'gzip', 400, 'MALFORMED_REQUEST'],
      ['not gzip at all', JSON.stringify(batchOf(userId)), 'gzip', 400, 'MALFORMED_REQUEST'],
      ['gzip sent as deflate', good, 'deflate', 400, 'MALFORMED_REQUEST'],
      ['brotli', zlib.brotliCompressSync(JSON.stringify(batchOf(userId))), 'br', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['zstd', good, 'zstd', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['gzip twice', zlib.gzipSync(good), 'gzip, gzip', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [name, payload, encoding, status, code] of cases) {
      const res = await post('/v1/batch', payload, {
        'content-type': 'application/json',
        'content-encoding': encoding,
      });
      expect({ name, status: res.statusCode, code: res.json().code }).toEqual({ name, status, code });
      expect(res.json().message).toEqual(expect.any(String));
    }
    const br = await post('/v1/batch', 'x', { 'content-type': 'application/json', 'content-encoding': 'br' });
    expect(br.json().message).toBe(
      'Content-Encoding "br" is not supported: send the body uncompressed, or with Content-Encoding gzip or deflate',
    );
    expect(await storedFor(userId)).toHaveLength(0);
  });

  it('ingest reads JSON under any content type; a non-JSON body there is 415', async () => {
    const userId = uid();
    for (const type of ['application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data']) {
      const res = await post('/v1/track', JSON.stringify(fixture('track', { userId, messageId: uid('m') })), {
        'content-type': type,
      });
      expect({ type, status: res.statusCode }).toEqual({ type, status: 200 });
    }
    expect(await storedFor(userId)).toHaveLength(3);
    const form = await post('/v1/track', 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toEqual({
      message:
        'The body is not JSON (content-type: application/x-www-form-urlencoded): send a JSON body with content-type: application/json',
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  });

  it('GraphQL keeps its strict content types and does not decompress', async () => {
    const query = JSON.stringify({ query: '{ __typename }' });
    const auth = { authorization: `Bearer ${t.ws.adminKey}` };
    const form = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: query,
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(415);
    const zipped = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: zlib.gzipSync(query),
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(zipped.statusCode).toBe(400);
    const plain = await t.inject({
      method: 'POST',
      url: '/graphql',
      payload: query,
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(plain.statusCode).toBe(200);
  });
});
