/*
 * The page's script. Plain ES2017 for any current browser; it writes to the DOM only with createElement and
 * textContent, keeps the key in sessionStorage only, and reads its GraphQL documents from the JSON data block.
 * (Kept free of backticks and template placeholders: it is embedded in this TypeScript template string.)
 */
export const CONSOLE_SCRIPT = String.raw`
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
