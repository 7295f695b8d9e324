import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The console's server side: it only serves the HTML shells and the bundle that scripts/build-console.ts built from
 * src/console/client/ into dist/console/. It never imports the client code; the page talks to `POST /graphql`
 * like any other API client.
 */

/** The files of the bundle, by the name they are served under (`/console/assets/<name>`). */
const ASSETS: Record<string, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'graphiql.js': 'text/javascript; charset=utf-8',
  'graphiql.css': 'text/css; charset=utf-8',
};

/** dist/console of this checkout, from src/console (ts-node, tests) and from dist/src/console (the build) alike. */
function bundleDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'console');
}

/**
 * The Content-Security-Policy of the console and the GraphQL IDE: same origin only, no inline script or style.
 * Fonts and images may be data: URLs (GraphiQL's stylesheet embeds its icons and fonts that way).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

function shell(title: string, bundle: 'console' | 'graphiql', body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<link rel="stylesheet" href="/console/assets/${bundle}.css">
<script type="module" src="/console/assets/${bundle}.js"></script>
</head>
<body>
${body}
<noscript>The Pigeon console needs JavaScript.</noscript>
</body>
</html>
`;
}

/** The console page: an empty shell the bundle renders into. */
export function renderConsolePage(): string {
  return shell('Pigeon console', 'console', '<div id="app"></div>');
}

/** The GraphQL IDE page (`GET /graphql` with `Accept: text/html`). */
export function renderIdePage(): string {
  return shell(
    'Pigeon GraphQL IDE',
    'graphiql',
    `<div class="ide-bar"><a href="/console">Pigeon console</a><span id="ide-key-status" role="status"></span></div>
<div id="graphiql"></div>`,
  );
}

/** True for a browser navigating to the URL (it prefers HTML), false for API clients. */
export function wantsHtml(accept: string | undefined): boolean {
  return Boolean(accept && /\btext\/html\b/i.test(accept));
}

async function sendAsset(name: string, reply: FastifyReply) {
  const type = ASSETS[name];
  if (!type) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
  let body: Buffer;
  try {
    body = await fs.promises.readFile(path.join(bundleDir(), name));
  } catch {
    return reply
      .code(503)
      .type('text/plain; charset=utf-8')
      .send('The console is not built: run `npm run build` (it bundles src/console/client into dist/console).');
  }
  return reply
    .code(200)
    .headers({ 'content-type': type, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' })
    .send(body);
}

/**
 * `GET /console` (and `/console/`): the web console (README.md, "Console"), and `/console/assets/*`: its bundle and
 * the GraphQL IDE's. The page holds no workspace data and no key, so it needs none to load; every request it
 * makes is authenticated by GraphQL itself. Registered by the API app only (not by a worker's ops app).
 */
export function registerConsole(app: FastifyInstance): void {
  const page = async (_request: unknown, reply: FastifyReply) =>
    reply.code(200).headers(PAGE_HEADERS).send(renderConsolePage());
  app.get('/console', page);
  app.get('/console/', page);
  app.get<{ Params: { name: string } }>('/console/assets/:name', (request, reply) =>
    sendAsset(request.params.name, reply),
  );
}
