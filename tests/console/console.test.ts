import vm from 'node:vm';
import pino from 'pino';
import { parse, validate } from 'graphql';
import { buildGraphQLSchema } from '../../src/graphql/build-schema';
import { CONSOLE_QUERIES, EVENT_NAMES_QUERY, EVENT_QUERY, EVENTS_QUERY } from '../../src/console/queries';
import { buildOpenApiDocument } from '../../src/ingest/segment/openapi';
import { createOpsApp } from '../../src/ops/ops-app';
import { fixture, startTestApp, uid, type TestApp } from '../helpers/test-app';

/** The nonce of a CSP header's script-src. */
function cspNonce(csp: string): string {
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  if (!match) throw new Error(`no script nonce in ${csp}`);
  return match[1];
}

/** The page's inline script (the one that runs, not the JSON data block). */
function pageScript(html: string): { nonce: string; code: string } {
  const match = /<script nonce="([^"]+)">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no nonce script in the page');
  return { nonce: match[1], code: match[2] };
}

/** The JSON data block the route injects. */
function pageData(html: string): { queries: Record<string, string>; enums: Record<string, string[]> } {
  const match = /<script type="application\/json" id="console-data">([\s\S]*?)<\/script>/.exec(html);
  if (!match) throw new Error('no data block in the page');
  return JSON.parse(match[1]);
}

describe('GET /console', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves one self-contained HTML page with strict security headers', async () => {
    const res = await t.inject({ method: 'GET', url: '/console' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');

    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const nonce = cspNonce(csp);
    expect(Buffer.from(nonce, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);

    const html = res.body;
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(pageScript(html).nonce).toBe(nonce);
    expect(html).toContain(`<style nonce="${nonce}">`);
    // nothing from elsewhere: the machine may be offline
    expect(html).not.toMatch(/\b(src|href)\s*=\s*"(https?:)?\/\//i);
    expect(html).not.toMatch(/<script(?![^>]*(nonce="|type="application\/json"))/);
    // no inline event handlers or style attributes (CSP would block them)
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
  });

  it('uses a fresh nonce on every response, and answers /console/ too', async () => {
    const a = await t.inject({ method: 'GET', url: '/console' });
    const b = await t.inject({ method: 'GET', url: '/console/' });
    expect(b.statusCode).toBe(200);
    const nonceA = cspNonce(String(a.headers['content-security-policy']));
    const nonceB = cspNonce(String(b.headers['content-security-policy']));
    expect(nonceA).not.toBe(nonceB);
    expect(pageScript(b.body).nonce).toBe(nonceB);
  });

  it('holds no key material, keeps the key in sessionStorage only and writes no HTML from data', async () => {
    const res = await t.inject({ method: 'GET', url: '/console' });
    const html = res.body;
    expect(html).not.toContain(t.ws.adminKey);
    expect(html).not.toContain(t.ws.ingestKey);
    if (process.env.PIGEON_ADMIN_KEY) expect(html).not.toContain(process.env.PIGEON_ADMIN_KEY);
    const { code } = pageScript(html);
    expect(code).toContain('sessionStorage');
    expect(code).not.toContain('localStorage');
    expect(code).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(/);
    expect(code).toContain("'content-type': 'application/json'");
    expect(code).toContain("authorization: 'Bearer ' + key");
  });

  it('page script is valid JavaScript and every element id it looks up exists in the page', async () => {
    const html = (await t.inject({ method: 'GET', url: '/console' })).body;
    const { code } = pageScript(html);
    expect(() => new vm.Script(code)).not.toThrow();
    const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    const wanted = [...code.matchAll(/byId\('([^']+)'\)/g)].map((m) => m[1]);
    for (const name of ['events', 'profiles', 'messages']) wanted.push(`${name}-next`, `${name}-first`, `${name}-page`);
    for (const id of wanted) expect(ids).toContain(id);
    for (const view of [...html.matchAll(/data-view="([^"]+)"/g)].map((m) => m[1]))
      expect(ids).toContain(`view-${view}`);
  });

  it('injects exactly the documents of src/console/queries.ts, and the filter enums of the schema', async () => {
    const html = (await t.inject({ method: 'GET', url: '/console' })).body;
    const data = pageData(html);
    expect(data.queries).toEqual(CONSOLE_QUERIES);
    expect(data.enums.EventType).toContain('TRACK');
    expect(data.enums.EventStatus).toContain('UNMAPPED');
    expect(data.enums.MessageStatus).toContain('DELIVERED');
  });

  it('every GraphQL document of the console parses and validates against the schema', () => {
    const schema = buildGraphQLSchema();
    for (const [name, query] of Object.entries(CONSOLE_QUERIES)) {
      const errors = validate(schema, parse(query));
      expect({ name, errors: errors.map((e) => e.message) }).toEqual({ name, errors: [] });
    }
  });

  it("runs the console's events, event and eventNames queries with an admin key", async () => {
    const userId = uid();
    const sent = await t.send('/segment', fixture('track', { userId, event: 'Console Checked' }));
    expect(sent.statusCode).toBe(202);

    const events = await t.gql(EVENTS_QUERY, { first: 50, after: null, filter: { userId } });
    expect(events.errors).toBeUndefined();
    const edges = events.data!.events.edges;
    expect(edges).toHaveLength(1);
    expect(edges[0].node).toMatchObject({ type: 'TRACK', userId, name: 'Segment-TrackEvent:Console Checked' });
    expect(events.data!.events.pageInfo.hasNextPage).toBe(false);

    const event = await t.gql(EVENT_QUERY, { id: edges[0].node.id });
    expect(event.errors).toBeUndefined();
    expect(event.data!.event.payload).toMatchObject({ event: 'Console Checked', userId });

    const names = await t.gql(EVENT_NAMES_QUERY);
    expect(names.errors).toBeUndefined();
    expect(names.data!.eventNames).toContainEqual(
      expect.objectContaining({ name: 'Segment-TrackEvent:Console Checked', count: 1, mapping: null }),
    );
  });

  it('the other documents run too, and a bad key gets UNAUTHENTICATED', async () => {
    for (const name of ['profiles', 'messages', 'templates', 'routingRules'] as const) {
      const res = await t.gql(CONSOLE_QUERIES[name], { first: 50 });
      expect({ name, errors: res.errors }).toEqual({ name, errors: undefined });
    }
    const bad = await t.gql(EVENTS_QUERY, { first: 50 }, 'not-a-key');
    expect(bad.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(bad.errors?.[0]?.message).toBe('Unknown API key');
  });

  it("is not served by a worker process's ops app", async () => {
    const ops = await createOpsApp({
      db: t.db,
      metrics: t.services.metrics,
      openApi: buildOpenApiDocument,
      logger: pino({ level: 'silent' }),
    });
    try {
      const res = await ops.inject({ method: 'GET', url: '/console' });
      expect(res.statusCode).toBe(404);
    } finally {
      await ops.close();
    }
  });
});
