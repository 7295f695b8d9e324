import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildConsole } from '../../scripts/build-console';
import { buildOpenApiDocument } from '../../src/ingest/segment/openapi';
import { createOpsApp } from '../../src/ops/ops-app';
import { startTestApp, type TestApp } from '../helpers/test-app';

const ROOT = path.resolve(__dirname, '../..');

describe('GET /console and its bundle', () => {
  let t: TestApp;

  beforeAll(async () => {
    await buildConsole();
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves an HTML shell with a strict CSP: no inline script or style, nothing from elsewhere', async () => {
    for (const url of ['/console', '/console/']) {
      const res = await t.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-|nonce-/);
      const html = res.body;
      expect(html).toContain('<script type="module" src="/console/assets/console.js"></script>');
      expect(html).toContain('<link rel="stylesheet" href="/console/assets/console.css">');
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=")/); // no inline script
      expect(html).not.toMatch(/<style|\sstyle\s*=|\son[a-z]+\s*=/i);
      expect(html).not.toMatch(/\b(src|href)\s*=\s*"(https?:)?\/\//i);
      expect(html).not.toContain(t.ws.adminKey);
    }
  });

  it('serves the bundle files and nothing else under /console/assets', async () => {
    for (const [name, type] of [
      ['console.js', 'text/javascript'],
      ['console.css', 'text/css'],
      ['graphiql.js', 'text/javascript'],
      ['graphiql.css', 'text/css'],
    ]) {
      const res = await t.inject({ method: 'GET', url: `/console/assets/${name}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain(type);
      expect(res.body.length).toBeGreaterThan(100);
    }
    expect((await t.inject({ method: 'GET', url: '/console/assets/..%2Fpackage.json' })).statusCode).toBe(404);
    expect((await t.inject({ method: 'GET', url: '/console/assets/other.js' })).statusCode).toBe(404);
  });

  it('the bundle keeps the key out of URLs and localStorage and writes no HTML from data', () => {
    const js = fs.readFileSync(path.join(ROOT, 'dist/console/console.js'), 'utf8');
    expect(js).toContain('sessionStorage');
    expect(js).not.toContain('localStorage');
    // the client's own sources, not the framework's: no raw HTML, no eval
    for (const file of fs.readdirSync(path.join(ROOT, 'src/console/client'))) {
      if (!/\.tsx?$/.test(file) || file.endsWith('.d.ts')) continue;
      const code = fs.readFileSync(path.join(ROOT, 'src/console/client', file), 'utf8');
      expect({ file, bad: code.match(/innerHTML|dangerouslySetInnerHTML|localStorage|\beval\(|new Function/) }).toEqual(
        {
          file,
          bad: null,
        },
      );
    }
  });

  it('GET /graphql from a browser opens the offline GraphQL IDE; API clients are unchanged', async () => {
    const page = await t.inject({
      method: 'GET',
      url: '/graphql',
      headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(page.body).toContain('/console/assets/graphiql.js');
    expect(page.body).not.toMatch(/apollo|cdn|https?:\/\//i);

    const get = await t.inject({
      method: 'GET',
      url: '/graphql?query=%7B__typename%7D',
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({ data: { __typename: 'Query' } });

    const post = await t.gql('{ __typename }');
    expect(post).toEqual({ data: { __typename: 'Query' } });
  });

  it('src/console/client/graphql-env.d.ts is generated from schema/schema.graphql (npm run console:schema)', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-tada-')), 'graphql-env.d.ts');
    execFileSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/gql.tada/bin/cli.js'),
        'generate-output',
        '--tsconfig',
        'src/console/client/tsconfig.json',
        '--output',
        out,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const committed = fs.readFileSync(path.join(ROOT, 'src/console/client/graphql-env.d.ts'), 'utf8');
    expect(committed === fs.readFileSync(out, 'utf8')).toBe(true);
  });

  it("the console's documents type-check against the schema (tsc -p src/console/client, also run by npm run lint)", () => {
    expect(() =>
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', 'src/console/client'], {
        cwd: ROOT,
        stdio: 'pipe',
      }),
    ).not.toThrow();
  }, 120_000);

  it("is not served by a worker process's ops app", async () => {
    const ops = await createOpsApp({
      db: t.db,
      metrics: t.services.metrics,
      openApi: buildOpenApiDocument,
      logger: pino({ level: 'silent' }),
    });
    try {
      expect((await ops.inject({ method: 'GET', url: '/console' })).statusCode).toBe(404);
      expect((await ops.inject({ method: 'GET', url: '/console/assets/console.js' })).statusCode).toBe(404);
    } finally {
      await ops.close();
    }
  });
});
