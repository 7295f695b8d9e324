import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isEnumType } from 'graphql';
import { buildGraphQLSchema } from '../graphql/build-schema';
import { CONSOLE_SCRIPT } from './console-script';
import { CONSOLE_QUERIES } from './queries';

/** The enums the console's filters offer, read from the schema so they never drift from it. */
const CONSOLE_ENUMS = ['EventType', 'EventStatus', 'MessageStatus'] as const;

/** What the page's script reads from its JSON data block: the GraphQL documents and the filter enums. */
export interface ConsoleData {
  queries: typeof CONSOLE_QUERIES;
  enums: Record<(typeof CONSOLE_ENUMS)[number], string[]>;
}

export function consoleData(): ConsoleData {
  const schema = buildGraphQLSchema();
  const enums = {} as ConsoleData['enums'];
  for (const name of CONSOLE_ENUMS) {
    const type = schema.getType(name);
    enums[name] = isEnumType(type) ? type.getValues().map((v) => v.name) : [];
  }
  return { queries: CONSOLE_QUERIES, enums };
}

/** JSON that is safe inside a `<script>` data block: nothing can close the element or start a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The Content-Security-Policy of one response: same-origin only, inline code only with this response's nonce. */
export function consoleCsp(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6677; --bg: #f6f7f9; --panel: #fff; --line: #d9dde5;
  --accent: #2f5fd0; --err-bg: #fdecec; --err-fg: #8a1c1c; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ef; --muted: #9aa3b5; --bg: #14171d; --panel: #1c2028; --line: #323846; --accent: #7ea2ff;
    --err-bg: #3a1d1d; --err-fg: #ffb4b4; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px; background: var(--panel);
  border-bottom: 1px solid var(--line); }
header h1 { font-size: 16px; margin: 0 12px 0 0; }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 0; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px;
  background: var(--panel); color: var(--fg); }
button { cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:disabled { opacity: 0.5; cursor: default; }
nav { display: flex; gap: 4px; padding: 8px 16px 0; border-bottom: 1px solid var(--line); }
nav button { border-radius: 4px 4px 0 0; border-bottom: none; }
nav button[aria-selected="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
main { padding: 12px 16px; }
section[hidden], .hidden { display: none !important; }
.toolbar { margin-bottom: 10px; }
.pager { display: flex; gap: 8px; align-items: center; margin: 8px 0; color: var(--muted); }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 12px; }
@media (max-width: 900px) { .layout { grid-template-columns: minmax(0, 1fr); } }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
tr.clickable { cursor: pointer; }
tr.clickable:hover, tr.selected { background: rgba(127, 127, 127, 0.12); }
td.mono, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
h2 { font-size: 14px; margin: 8px 0 4px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-word; }
.muted { color: var(--muted); }
#errors { margin: 0 16px; }
.error { background: var(--err-bg); color: var(--err-fg); border-radius: 4px; padding: 8px 12px; margin-top: 8px; }
.error code { font-weight: 700; margin-right: 6px; }
`;

/** The console page; `nonce` must be the one in this response's Content-Security-Policy. */
export function renderConsolePage(nonce: string, data: ConsoleData = consoleData()): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>Pigeon console</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<header>
  <h1>Pigeon console</h1>
  <form id="key-form" autocomplete="off">
    <label>Admin API key
      <input id="key-input" type="password" autocomplete="off" spellcheck="false" size="40" required>
    </label>
    <button class="primary" type="submit">Use key</button>
    <span class="muted">Kept in this tab's session storage only.</span>
  </form>
  <div id="key-set" class="hidden">
    <span class="muted">Admin key set for this tab.</span>
    <button id="forget-key" type="button">Forget key</button>
  </div>
</header>
<div id="errors" aria-live="polite"></div>
<div id="app" class="hidden">
<nav role="tablist">
  <button type="button" role="tab" data-view="events">Events</button>
  <button type="button" role="tab" data-view="eventNames">Event names</button>
  <button type="button" role="tab" data-view="profiles">Profiles</button>
  <button type="button" role="tab" data-view="messages">Messages</button>
  <button type="button" role="tab" data-view="templates">Templates &amp; routing</button>
</nav>
<main>
<section id="view-events" role="tabpanel">
  <form id="events-form" class="toolbar">
    <label>type <select name="type"></select></label>
    <label>name <input name="name" placeholder="Segment-TrackEvent:Order Completed" size="32"></label>
    <label>userId <input name="userId"></label>
    <label>status <select name="status"></select></label>
    <button class="primary" type="submit">Search</button>
  </form>
  <div class="layout">
    <div class="panel">
      <div id="events-list"></div>
      <div class="pager"><button id="events-first" type="button" disabled>First page</button>
        <button id="events-next" type="button" disabled>Next page</button><span id="events-page"></span></div>
    </div>
    <div class="panel" id="events-detail"><p class="muted">Select an event to see its payload.</p></div>
  </div>
</section>
<section id="view-eventNames" role="tabpanel" hidden>
  <div class="toolbar"><button type="button" data-refresh>Refresh</button></div>
  <div class="panel" id="eventNames-list"></div>
</section>
<section id="view-profiles" role="tabpanel" hidden>
  <form id="profiles-form" class="toolbar">
    <label>search (userId or email) <input name="search"></label>
    <label>trait <input name="trait" placeholder="address.city"></label>
    <label>equals (JSON or text) <input name="equals"></label>
    <button class="primary" type="submit">Search</button>
  </form>
  <div class="layout">
    <div class="panel">
      <div id="profiles-list"></div>
      <div class="pager"><button id="profiles-first" type="button" disabled>First page</button>
        <button id="profiles-next" type="button" disabled>Next page</button><span id="profiles-page"></span></div>
    </div>
    <div class="panel" id="profiles-detail"><p class="muted">Select a profile to see its traits.</p></div>
  </div>
</section>
<section id="view-messages" role="tabpanel" hidden>
  <form id="messages-form" class="toolbar">
    <label>status <select name="status"></select></label>
    <label>userId <input name="userId"></label>
    <label>eventName <input name="eventName" size="32"></label>
    <button class="primary" type="submit">Search</button>
  </form>
  <div class="layout">
    <div class="panel">
      <div id="messages-list"></div>
      <div class="pager"><button id="messages-first" type="button" disabled>First page</button>
        <button id="messages-next" type="button" disabled>Next page</button><span id="messages-page"></span></div>
    </div>
    <div class="panel" id="messages-detail"><p class="muted">Select a message to see its deliveries and history.</p></div>
  </div>
</section>
<section id="view-templates" role="tabpanel" hidden>
  <div class="toolbar"><button type="button" data-refresh>Refresh</button></div>
  <h2>Templates</h2>
  <div class="panel" id="templates-list"></div>
  <h2>Routing rules (in evaluation order)</h2>
  <div class="panel" id="rules-list"></div>
</section>
</main>
</div>
<script type="application/json" id="console-data">${jsonForScript(data)}</script>
<script nonce="${nonce}">${CONSOLE_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * `GET /console` (and `/console/`): the web console (README.md, "Web console"), one self-contained page (no external
 * asset) that talks to `POST /graphql` with the admin key the user types in. The page holds no workspace
 * data and no key, so it needs none to load; every request it makes is authenticated by GraphQL itself.
 * Registered by the API app only (not by a worker's ops app).
 */
export function registerConsole(app: FastifyInstance): void {
  const data = consoleData();
  const send = async (_request: unknown, reply: FastifyReply) => {
    const nonce = randomBytes(18).toString('base64');
    return reply
      .code(200)
      .headers({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': consoleCsp(nonce),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
        'cache-control': 'no-store',
      })
      .send(renderConsolePage(nonce, data));
  };
  app.get('/console', send);
  app.get('/console/', send);
}
