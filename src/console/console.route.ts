import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isEnumType } from 'graphql';
import { buildGraphQLSchema } from '../graphql/build-schema';
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

/*
 * The page's script. Plain ES2017 for any current browser; it writes to the DOM only with createElement and
 * textContent, keeps the key in sessionStorage only, and reads its GraphQL documents from the JSON data block.
 * (Kept free of backticks and template placeholders: it is embedded in this TypeScript template string.)
 */
const SCRIPT = String.raw`
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('console-data').textContent);
  var Q = DATA.queries;
  var KEY_ITEM = 'pigeon.console.adminKey';
  var PAGE_SIZE = 50;

  function byId(id) { return document.getElementById(id); }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function h(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'className') node.className = v;
        else if (k === 'onclick') node.addEventListener('click', v);
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === undefined || c === null) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }
  function text(v) { return v === undefined || v === null || v === '' ? '—' : String(v); }
  function json(v) { return h('pre', { text: JSON.stringify(v, null, 2) }); }

  // ---- the key: sessionStorage only (gone when the tab closes), never persisted elsewhere nor put in a URL
  function getKey() { try { return sessionStorage.getItem(KEY_ITEM); } catch (e) { return null; } }
  function setKey(k) { try { sessionStorage.setItem(KEY_ITEM, k); } catch (e) { /* storage disabled */ } }
  function forgetKey() { try { sessionStorage.removeItem(KEY_ITEM); } catch (e) { /* storage disabled */ } }

  // ---- errors
  function showErrors(errors) {
    var box = byId('errors');
    clear(box);
    (errors || []).forEach(function (e) {
      box.appendChild(h('div', { className: 'error', role: 'alert' }, [
        e.code ? h('code', { text: e.code }) : null,
        h('span', { text: e.message || 'Request failed' }),
      ]));
    });
  }
  function fail(err) {
    if (Array.isArray(err)) showErrors(err);
    else showErrors([{ message: (err && err.message) || String(err), code: 'NETWORK_ERROR' }]);
  }

  // ---- GraphQL over fetch: the content-type header is what Apollo's CSRF prevention asks for
  async function gql(name, variables) {
    var key = getKey();
    if (!key) throw [{ message: 'Enter an admin API key first', code: 'NO_KEY' }];
    var res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + key },
      body: JSON.stringify({ query: Q[name], variables: variables || {} }),
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
    var body;
    try { body = JSON.parse(await res.text()); } catch (e) {
      throw [{ message: 'HTTP ' + res.status + ': the response is not JSON', code: 'HTTP_' + res.status }];
    }
    if (body && Array.isArray(body.errors) && body.errors.length) {
      throw body.errors.map(function (e) {
        return { message: e.message, code: e.extensions && e.extensions.code };
      });
    }
    if (!res.ok || !body || !body.data) {
      throw [{ message: (body && body.message) || 'HTTP ' + res.status, code: (body && body.code) || 'HTTP_' + res.status }];
    }
    showErrors([]);
    return body.data;
  }

  // ---- tables
  function table(container, columns, rows, onSelect, empty) {
    clear(container);
    if (!rows.length) { container.appendChild(h('p', { className: 'muted', text: empty || 'Nothing here.' })); return; }
    var head = h('tr', null, columns.map(function (c) { return h('th', { text: c.label }); }));
    var body = h('tbody');
    rows.forEach(function (row) {
      var tr = h('tr', { className: onSelect ? 'clickable' : '' }, columns.map(function (c) {
        var v = c.value(row);
        return h('td', { className: c.mono ? 'mono' : '' }, [v instanceof Node ? v : text(v)]);
      }));
      if (onSelect) {
        tr.tabIndex = 0;
        var pick = function () {
          Array.prototype.forEach.call(body.children, function (r) { r.classList.remove('selected'); });
          tr.classList.add('selected');
          onSelect(row);
        };
        tr.addEventListener('click', pick);
        tr.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') pick(); });
      }
      body.appendChild(tr);
    });
    container.appendChild(h('table', null, [h('thead', null, [head]), body]));
  }
  function fields(pairs) {
    var dl = h('dl');
    pairs.forEach(function (p) {
      dl.appendChild(h('dt', { text: p[0] }));
      dl.appendChild(h('dd', null, [p[1] instanceof Node ? p[1] : text(p[1])]));
    });
    return dl;
  }
  function link(label, onclick) {
    return h('button', { type: 'button', text: label, onclick: onclick });
  }
  function fillSelect(select, values) {
    select.appendChild(h('option', { value: '', text: 'any' }));
    values.forEach(function (v) { select.appendChild(h('option', { value: v, text: v })); });
  }
  function formValues(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (e) {
      if (e.name && e.value.trim() !== '') out[e.name] = e.value.trim();
    });
    return out;
  }
  function isEmpty(o) { return Object.keys(o).length === 0; }

  // ---- a paged list: "first page" and "next page" (pageInfo.endCursor)
  function pager(name, render) {
    var state = { variables: {}, after: null, next: null, page: 1 };
    var prefix = name + '-';
    async function load() {
      var vars = Object.assign({ first: PAGE_SIZE, after: state.after }, state.variables);
      try {
        var data = await gql(name, vars);
        var conn = data[name];
        state.next = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
        byId(prefix + 'next').disabled = !state.next;
        byId(prefix + 'first').disabled = state.page === 1;
        byId(prefix + 'page').textContent = 'page ' + state.page + ' · ' + conn.edges.length + ' shown';
        render(conn.edges.map(function (e) { return e.node; }));
      } catch (err) { fail(err); }
    }
    byId(prefix + 'next').addEventListener('click', function () {
      if (!state.next) return;
      state.after = state.next; state.page += 1; load();
    });
    byId(prefix + 'first').addEventListener('click', function () { state.after = null; state.page = 1; load(); });
    return {
      search: function (variables) { state.variables = variables; state.after = null; state.page = 1; return load(); },
      reload: load,
    };
  }

  // ---- Events
  var eventsForm = byId('events-form');
  fillSelect(eventsForm.elements.namedItem('type'), DATA.enums.EventType);
  fillSelect(eventsForm.elements.namedItem('status'), DATA.enums.EventStatus);
  var events = pager('events', function (nodes) {
    table(byId('events-list'), [
      { label: 'received', value: function (e) { return e.receivedAt; }, mono: true },
      { label: 'type', value: function (e) { return e.type; } },
      { label: 'name', value: function (e) { return e.name; } },
      { label: 'user', value: function (e) { return e.userId || (e.anonymousId ? 'anon ' + e.anonymousId : null); } },
      { label: 'status', value: function (e) { return e.status; } },
    ], nodes, function (e) { showEvent(e.id); }, 'No events match.');
  });
  function searchEvents() {
    var filter = formValues(eventsForm);
    return events.search({ filter: isEmpty(filter) ? null : filter });
  }
  eventsForm.addEventListener('submit', function (ev) { ev.preventDefault(); searchEvents(); });
  async function showEvent(id) {
    var box = byId('events-detail');
    try {
      var e = (await gql('event', { id: id })).event;
      clear(box);
      if (!e) { box.appendChild(h('p', { className: 'muted', text: 'No such event.' })); return; }
      box.appendChild(h('h2', { text: 'Event ' + e.id }));
      box.appendChild(fields([
        ['type', e.type], ['name', e.name], ['status', e.status], ['userId', e.userId],
        ['anonymousId', e.anonymousId], ['messageId', e.messageId], ['timestamp', e.timestamp],
        ['receivedAt', e.receivedAt],
        ['message', e.message ? link(e.message.id + ' (' + e.message.status + ')', function () {
          selectView('messages'); showMessage(e.message.id);
        }) : null],
      ]));
      box.appendChild(h('h2', { text: 'Payload' }));
      box.appendChild(json(e.payload));
    } catch (err) { fail(err); }
  }

  // ---- Event names
  async function loadEventNames() {
    try {
      var names = (await gql('eventNames')).eventNames;
      table(byId('eventNames-list'), [
        { label: 'name', value: function (n) {
          return link(n.name, function (ev) {
            ev.stopPropagation();
            eventsForm.reset();
            eventsForm.elements.namedItem('name').value = n.name;
            selectView('events');
          });
        } },
        { label: 'count', value: function (n) { return n.count; } },
        { label: 'last seen', value: function (n) { return n.lastSeenAt; }, mono: true },
        { label: 'mapped to', value: function (n) {
          return n.mapping ? n.mapping.template.key + ' — ' + n.mapping.template.name + ' (' + n.mapping.template.status + ')' : 'unmapped';
        } },
      ], names, null, 'No track events seen yet.');
    } catch (err) { fail(err); }
  }

  // ---- Profiles
  var profiles = pager('profiles', function (nodes) {
    table(byId('profiles-list'), [
      { label: 'userId', value: function (p) { return p.userId; }, mono: true },
      { label: 'anonymous ids', value: function (p) { return p.anonymousIds.length; } },
      { label: 'created', value: function (p) { return p.createdAt; }, mono: true },
      { label: 'updated', value: function (p) { return p.updatedAt; }, mono: true },
    ], nodes, function (p) { showProfile(p.userId); }, 'No profiles match.');
  });
  var profilesForm = byId('profiles-form');
  function searchProfiles() {
    var v = formValues(profilesForm);
    var filter = {};
    if (v.search) filter.search = v.search;
    if (v.trait) filter.trait = v.trait;
    if (v.equals !== undefined) {
      // JSON when it parses (42, true, "x", {"a":1}), else the text itself
      try { filter.equals = JSON.parse(v.equals); } catch (e) { filter.equals = v.equals; }
    }
    return profiles.search({ filter: isEmpty(filter) ? null : filter });
  }
  profilesForm.addEventListener('submit', function (ev) { ev.preventDefault(); searchProfiles(); });
  async function showProfile(userId) {
    var box = byId('profiles-detail');
    try {
      var p = (await gql('profile', { userId: userId })).profile;
      clear(box);
      if (!p) { box.appendChild(h('p', { className: 'muted', text: 'No such profile.' })); return; }
      box.appendChild(h('h2', { text: 'Profile ' + p.userId }));
      box.appendChild(fields([
        ['anonymousIds', p.anonymousIds.join(', ')], ['createdAt', p.createdAt], ['updatedAt', p.updatedAt],
        ['groups', p.groups.map(function (g) { return g.groupId; }).join(', ')],
      ]));
      box.appendChild(h('h2', { text: 'Traits' }));
      box.appendChild(json(p.traits));
      p.groups.forEach(function (g) {
        box.appendChild(h('h2', { text: 'Group ' + g.groupId }));
        box.appendChild(json(g.traits));
      });
    } catch (err) { fail(err); }
  }

  // ---- Messages
  var messagesForm = byId('messages-form');
  fillSelect(messagesForm.elements.namedItem('status'), DATA.enums.MessageStatus);
  var messages = pager('messages', function (nodes) {
    table(byId('messages-list'), [
      { label: 'created', value: function (m) { return m.createdAt; }, mono: true },
      { label: 'status', value: function (m) { return m.status; } },
      { label: 'user', value: function (m) { return m.userId; } },
      { label: 'channel', value: function (m) { return m.channel; } },
      { label: 'template', value: function (m) { return m.template && m.template.key; } },
      { label: 'event', value: function (m) { return m.eventName; } },
      { label: 'reason', value: function (m) { return m.reason; } },
    ], nodes, function (m) { showMessage(m.id); }, 'No messages match.');
  });
  function searchMessages() {
    var filter = formValues(messagesForm);
    return messages.search({ filter: isEmpty(filter) ? null : filter });
  }
  messagesForm.addEventListener('submit', function (ev) { ev.preventDefault(); searchMessages(); });
  async function showMessage(id) {
    var box = byId('messages-detail');
    try {
      var m = (await gql('message', { id: id })).message;
      clear(box);
      if (!m) { box.appendChild(h('p', { className: 'muted', text: 'No such message.' })); return; }
      box.appendChild(h('h2', { text: 'Message ' + m.id }));
      box.appendChild(fields([
        ['status', m.status], ['reason', m.reason], ['userId', m.userId], ['channel', m.channel],
        ['template', m.template ? m.template.key + ' — ' + m.template.name : null],
        ['templateVersion', m.templateVersion], ['eventName', m.eventName],
        ['event', m.event ? link(m.event.id, function () { selectView('events'); showEvent(m.event.id); }) : null],
        ['idempotencyKey', m.idempotencyKey], ['createdAt', m.createdAt], ['updatedAt', m.updatedAt],
      ]));
      box.appendChild(h('h2', { text: 'Deliveries' }));
      var deliveries = h('div');
      table(deliveries, [
        { label: 'channel', value: function (d) { return d.channel; } },
        { label: 'provider', value: function (d) { return d.provider; } },
        { label: 'status', value: function (d) { return d.status; } },
        { label: 'attempts', value: function (d) { return d.attempts; } },
        { label: 'sent', value: function (d) { return d.sentAt; }, mono: true },
        { label: 'external id', value: function (d) { return d.externalId; }, mono: true },
        { label: 'last error', value: function (d) { return d.lastError; } },
      ], m.deliveries, null, 'No deliveries.');
      box.appendChild(deliveries);
      box.appendChild(h('h2', { text: 'History' }));
      var history = h('div');
      table(history, [
        { label: 'at', value: function (s) { return s.at; }, mono: true },
        { label: 'step', value: function (s) { return s.type; } },
        { label: 'detail', value: function (s) { return json(s.detail); } },
      ], m.history, null, 'No history.');
      box.appendChild(history);
      box.appendChild(h('h2', { text: 'Data' }));
      box.appendChild(json(m.data));
    } catch (err) { fail(err); }
  }

  // ---- Templates and routing rules (read-only)
  async function loadTemplates() {
    try {
      var data = await Promise.all([gql('templates'), gql('routingRules')]);
      var byTemplate = {};
      table(byId('templates-list'), [
        { label: 'key', value: function (t) { byTemplate[t.id] = t.key; return t.key; }, mono: true },
        { label: 'name', value: function (t) { return t.name; } },
        { label: 'status', value: function (t) { return t.status; } },
        { label: 'published', value: function (t) { return t.publishedVersion === null ? null : 'v' + t.publishedVersion; } },
        { label: 'channels', value: function (t) { return t.channels.join(', '); } },
        { label: 'updated', value: function (t) { return t.updatedAt; }, mono: true },
      ], data[0].templates, null, 'No templates.');
      table(byId('rules-list'), [
        { label: 'priority', value: function (r) { return r.priority; } },
        { label: 'name', value: function (r) { return r.name; } },
        { label: 'template', value: function (r) { return r.templateId ? byTemplate[r.templateId] || r.templateId : 'all templates'; } },
        { label: 'action', value: function (r) {
          return r.action + (r.method ? ' ' + r.method : '') + (r.channels ? ' → ' + r.channels.join(', ') : '');
        } },
        { label: 'enabled', value: function (r) { return r.enabled ? 'yes' : 'no'; } },
        { label: 'when', value: function (r) { return r.when ? json(r.when) : 'always'; } },
      ], data[1].routingRules, null, 'No routing rules.');
    } catch (err) { fail(err); }
  }

  // ---- views
  var VIEWS = {
    events: searchEvents,
    eventNames: loadEventNames,
    profiles: searchProfiles,
    messages: searchMessages,
    templates: loadTemplates,
  };
  var current = null;
  function selectView(name) {
    if (!VIEWS[name]) name = 'events';
    current = name;
    Array.prototype.forEach.call(document.querySelectorAll('nav button'), function (b) {
      b.setAttribute('aria-selected', b.dataset.view === name ? 'true' : 'false');
    });
    Array.prototype.forEach.call(document.querySelectorAll('main > section'), function (s) {
      s.hidden = s.id !== 'view-' + name;
    });
    if (getKey()) VIEWS[name]();
  }
  Array.prototype.forEach.call(document.querySelectorAll('nav button'), function (b) {
    b.addEventListener('click', function () { selectView(b.dataset.view); });
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-refresh]'), function (b) {
    b.addEventListener('click', function () { if (current) VIEWS[current](); });
  });

  // ---- key form
  function keyState() {
    var has = Boolean(getKey());
    byId('key-form').classList.toggle('hidden', has);
    byId('key-set').classList.toggle('hidden', !has);
    byId('app').classList.toggle('hidden', !has);
  }
  byId('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = byId('key-input');
    var k = input.value.trim();
    input.value = '';
    if (!k) return;
    setKey(k);
    keyState();
    selectView(current || 'events');
  });
  byId('forget-key').addEventListener('click', function () {
    forgetKey();
    showErrors([]);
    ['events-list', 'events-detail', 'eventNames-list', 'profiles-list', 'profiles-detail', 'messages-list',
      'messages-detail', 'templates-list', 'rules-list'].forEach(function (id) { clear(byId(id)); });
    keyState();
    byId('key-input').focus();
  });

  keyState();
  selectView('events');
})();
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
<script nonce="${nonce}">${SCRIPT}</script>
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
