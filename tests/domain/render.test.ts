import fc from 'fast-check';
import Handlebars from 'handlebars';
import { InvalidInputError } from '../../src/domain/domain-error';
import { Channel } from '../../src/domain/channel/channel.enum';
import { channelDefinition } from '../../src/domain/channel/channels';
import {
  TemplateContentError,
  TemplateScope,
  renderContent,
  renderTemplate,
  validateContent,
  validateTemplate,
} from '../../src/domain/template/render';

const scope: TemplateScope = {
  data: {
    orderId: 'A-1001',
    total: 42.5,
    markup: '<b>"Tom" & Jerry</b>',
    items: [
      { sku: 'SKU-1', qty: 2 },
      { sku: 'SKU-2', qty: 1, note: 'gift' },
    ],
    empty: [],
    zero: 0,
    nothing: null,
    nick: '',
  },
  profile: { firstName: 'Ada', email: 'ada@example.com', address: { city: 'Berlin' }, tags: ['vip'] },
  event: { name: 'Segment-TrackEvent:Order Completed', properties: { coupon: 'SPRING' } },
};

/** Renders one SMS body; handy for the missing-variable cases. */
function sms(body: string, s: TemplateScope = scope) {
  const { rendered, missingVariables } = renderContent([Channel.SMS], { sms: { body } }, s);
  return { text: rendered.sms?.body, missing: missingVariables };
}

function contentError(channels: Channel[], content: unknown): TemplateContentError {
  try {
    validateContent(channels, content);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateContentError);
    return e as TemplateContentError;
  }
  throw new Error('expected validateContent to throw');
}

const ALL_CONTENT = {
  email: {
    subject: 'Order {{data.orderId}}',
    html: '<p>Hi {{profile.firstName}}</p>',
    text: 'Hi {{profile.firstName}}',
  },
  sms: { body: 'Order {{data.orderId}}: {{data.total}} EUR' },
  push: { title: 'Order {{data.orderId}}', body: '{{data.items.length}} items' },
  slack: { text: '*{{profile.firstName}}* ordered {{data.items.0.sku}}' },
  msteams: { text: '{{profile.firstName}} ({{profile.email}})' },
  whatsapp: { body: 'Hello {{profile.firstName}} from {{profile.address.city}}' },
  webhook: { body: { orderId: '{{data.orderId}}', user: { name: '{{profile.firstName}}' } } },
};
const ALL = Object.values(Channel);

describe('renderContent', () => {
  it('renders every channel', () => {
    const { rendered, missingVariables } = renderContent(ALL, ALL_CONTENT, scope);
    expect(rendered).toEqual({
      email: { subject: 'Order A-1001', html: '<p>Hi Ada</p>', text: 'Hi Ada' },
      sms: { body: 'Order A-1001: 42.5 EUR' },
      push: { title: 'Order A-1001', body: '2 items' },
      slack: { text: '*Ada* ordered SKU-1' },
      msteams: { text: 'Ada (ada@example.com)' },
      whatsapp: { body: 'Hello Ada from Berlin' },
      webhook: { body: { orderId: 'A-1001', user: { name: 'Ada' } } },
    });
    expect(missingVariables).toEqual([]);
  });

  it('HTML-escapes email.html only', () => {
    const v = '{{data.markup}}';
    const content = {
      email: { subject: v, html: `<p>${v}</p>`, text: v },
      sms: { body: v },
      push: { title: v, body: v },
      slack: { text: v },
      msteams: { text: v },
      whatsapp: { body: v },
      webhook: { body: { value: v } },
    };
    const raw = '<b>"Tom" & Jerry</b>';
    const { rendered } = renderContent(ALL, content, scope);
    expect(rendered.email?.html).toBe('<p>&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;</p>');
    expect(rendered.email?.subject).toBe(raw);
    expect(rendered.email?.text).toBe(raw);
    expect(rendered.sms?.body).toBe(raw);
    expect(rendered.push).toEqual({ title: raw, body: raw });
    expect(rendered.slack?.text).toBe(raw);
    expect(rendered.msteams?.text).toBe(raw);
    expect(rendered.whatsapp?.body).toBe(raw);
    expect(rendered.webhook?.body).toEqual({ value: raw });
  });

  it('lets email.html opt out of escaping with a triple-stash', () => {
    const { rendered } = renderContent([Channel.EMAIL], { email: { subject: 's', html: '{{{data.markup}}}' } }, scope);
    expect(rendered.email?.html).toBe('<b>"Tom" & Jerry</b>');
  });

  it('renders the listed channels only, and skips listed channels without content', () => {
    const { rendered } = renderContent(
      [Channel.SMS, Channel.PUSH],
      { sms: ALL_CONTENT.sms, slack: ALL_CONTENT.slack },
      scope,
    );
    expect(Object.keys(rendered)).toEqual(['sms']);
  });

  it('keeps absent optional fields absent', () => {
    const { rendered } = renderContent([Channel.EMAIL], { email: { subject: 'S', text: 'T' } }, scope);
    expect(rendered.email).toEqual({ subject: 'S', text: 'T' });
  });

  it('renders with a missing profile, data or event', () => {
    expect(sms('[{{profile.firstName}}|{{data.x}}|{{event.name}}]', {}).text).toBe('[||]');
  });

  it('throws a located TemplateContentError for invalid content instead of a raw error', () => {
    expect(() => renderContent([Channel.SMS], { sms: { body: 'x\n{{#if a}}' } }, scope)).toThrow(
      /^sms\.body: line 2, column 1: `\{\{#if\}\}` is never closed \(add `\{\{\/if\}\}`\)$/,
    );
    expect(() => renderContent([Channel.SMS], { sms: { body: 5 } }, scope)).toThrow(TemplateContentError);
    expect(() => renderContent([Channel.SMS], 'nope', scope)).toThrow(TemplateContentError);
  });

  it('supports the built-in helpers', () => {
    expect(sms('{{#if data.zero}}yes{{else}}no{{/if}} {{#if data.zero includeZero=true}}yes{{/if}}').text).toBe(
      'no yes',
    );
    expect(sms('{{#unless data.nothing}}none{{/unless}}').text).toBe('none');
    expect(sms('{{#each data.items}}{{@index}}:{{sku}}{{#unless @last}},{{/unless}}{{/each}}').text).toBe(
      '0:SKU-1,1:SKU-2',
    );
    expect(sms('{{#with profile.address}}{{city}}{{/with}}').text).toBe('Berlin');
    expect(sms('{{lookup profile "firstName"}}').text).toBe('Ada');
    expect(sms('{{#each data.empty}}x{{else}}empty{{/each}}').text).toBe('empty');
  });

  it('never reads prototype properties', () => {
    const r = sms('[{{data.constructor}}][{{data.items.constructor}}][{{data.__proto__}}]');
    expect(r.text).toBe('[][][]');
  });
});

describe('default helper', () => {
  it('falls back when the value is missing, null or empty', () => {
    expect(sms('Hi {{default profile.nickname "there"}}').text).toBe('Hi there');
    expect(sms('{{default data.nothing "n/a"}}').text).toBe('n/a');
    expect(sms('{{default data.nick "anonymous"}}').text).toBe('anonymous');
    expect(sms('{{default profile.firstName "there"}}').text).toBe('Ada');
  });

  it('keeps 0 and false, and takes the first non-blank of several', () => {
    expect(sms('{{default data.zero 5}}').text).toBe('0');
    expect(sms('{{default data.nick profile.nickname profile.firstName "x"}}').text).toBe('Ada');
    expect(sms('{{default data.nothing}}').text).toBe('');
  });

  it('escapes in email.html like any other value', () => {
    const { rendered } = renderContent(
      [Channel.EMAIL],
      { email: { subject: '{{default data.x data.markup}}', html: '{{default data.x data.markup}}' } },
      scope,
    );
    expect(rendered.email?.subject).toBe('<b>"Tom" & Jerry</b>');
    expect(rendered.email?.html).toBe('&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;');
  });

  it('works in subexpressions', () => {
    expect(sms('{{#with (default data.missing profile.address)}}{{city}}{{/with}}').text).toBe('Berlin');
  });
});

describe('missingVariables', () => {
  it('lists top-level and nested paths that resolve to undefined, rendering them empty', () => {
    const r = sms(
      '{{data.orderId}} {{data.coupon}} {{profile.lastName}} {{profile.address.zip}} {{event.properties.x}}',
    );
    expect(r.text).toBe('A-1001    ');
    expect(r.missing).toEqual(['data.coupon', 'event.properties.x', 'profile.address.zip', 'profile.lastName']);
  });

  it('reports paths below a null or missing object, but not a null value itself', () => {
    expect(sms('{{data.nothing}}{{data.nothing.x}}{{data.a.b.c}}').missing).toEqual(['data.a.b.c', 'data.nothing.x']);
  });

  it('does not report present falsy values', () => {
    expect(sms('{{data.zero}}{{data.nick}}{{data.empty}}{{data.nothing}}').missing).toEqual([]);
  });

  it('lists each path once, sorted, across fields and channels', () => {
    const { missingVariables } = renderContent(
      [Channel.EMAIL, Channel.SMS, Channel.WEBHOOK],
      {
        email: { subject: '{{profile.x}} {{data.b}}', html: '{{data.b}}{{data.a}}' },
        sms: { body: '{{profile.x}}' },
        webhook: { body: { list: ['{{data.c}}', { deep: '{{data.a}}' }] } },
      },
      scope,
    );
    expect(missingVariables).toEqual(['data.a', 'data.b', 'data.c', 'profile.x']);
  });

  it('resolves names inside each against the items and reports them per list', () => {
    const r = sms('{{#each data.items}}{{sku}}/{{note}}/{{this.qty}}/{{price}};{{/each}}');
    expect(r.text).toBe('SKU-1//2/;SKU-2/gift/1/;');
    expect(r.missing).toEqual(['data.items[].note', 'data.items[].price']);
  });

  it('handles block params, ../ and @root inside each', () => {
    const r = sms(
      '{{#each data.items as |item i|}}{{i}}{{item.sku}}{{item.color}}{{../data.orderId}}{{../data.nope}}{{@root.profile.firstName}}{{@root.profile.x}}{{@index}}{{@key}}{{/each}}',
    );
    expect(r.text).toBe('0SKU-1A-1001Ada001SKU-2A-1001Ada11');
    expect(r.missing).toEqual(['data.items[].color', 'data.nope', 'profile.x']);
  });

  it('handles nested each', () => {
    const s = { data: { orders: [{ lines: [{ sku: 'a' }, {}] }, { lines: [] }] } };
    expect(sms('{{#each data.orders}}{{#each lines}}{{sku}}{{/each}}{{/each}}', s).missing).toEqual([
      'data.orders[].lines[].sku',
    ]);
  });

  it('iterates objects with each', () => {
    const s = { data: { prices: { a: { amount: 1 }, b: {} } } };
    const r = sms('{{#each data.prices}}{{@key}}={{amount}};{{/each}}', s);
    expect(r.text).toBe('a=1;b=;');
    expect(r.missing).toEqual(['data.prices[].amount']);
  });

  it('resolves names inside with against its target', () => {
    const r = sms('{{#with profile.address}}{{city}} {{zip}} {{../profile.firstName}}{{/with}}');
    expect(r.text).toBe('Berlin  Ada');
    expect(r.missing).toEqual(['profile.address.zip']);
    expect(sms('{{#with profile.address as |a|}}{{a.city}}{{a.street}}{{/with}}').missing).toEqual([
      'profile.address.street',
    ]);
  });

  it('reports a missing each/with target unless the block has an else', () => {
    expect(sms('{{#each data.lines}}{{sku}}{{/each}}').missing).toEqual(['data.lines']);
    expect(sms('{{#with profile.company}}{{name}}{{/with}}').missing).toEqual(['profile.company']);
    expect(sms('{{#each data.lines}}{{sku}}{{else}}none{{/each}}').missing).toEqual([]);
    expect(sms('{{#with profile.company}}{{name}}{{else}}{{profile.fallback}}{{/with}}').missing).toEqual([
      'profile.fallback',
    ]);
  });

  it('does not report an empty list nor the names inside it', () => {
    expect(sms('{{#each data.empty}}{{sku}}{{/each}}').missing).toEqual([]);
  });

  it('follows if/unless: conditions are not reported, only the branch that renders is', () => {
    expect(sms('{{#if data.coupon}}{{data.coupon.code}}{{/if}}').missing).toEqual([]);
    expect(sms('{{#if data.coupon}}{{data.coupon.code}}{{else}}{{data.fallback}}{{/if}}').missing).toEqual([
      'data.fallback',
    ]);
    expect(sms('{{#if data.orderId}}{{data.shipping}}{{/if}}').missing).toEqual(['data.shipping']);
    expect(sms('{{#unless data.orderId}}{{data.a}}{{else}}{{data.b}}{{/unless}}').missing).toEqual(['data.b']);
    expect(sms('{{#if data.x}}{{data.a}}{{else if data.orderId}}{{data.b}}{{else}}{{data.c}}{{/if}}').missing).toEqual([
      'data.b',
    ]);
  });

  it('handles mustache sections like Handlebars does (if, each or with by value)', () => {
    const s = { data: { flag: true, list: [{ a: 1 }, {}], obj: { a: 1 } } };
    expect(sms('{{#data.flag}}{{data.x}}{{/data.flag}}', s).missing).toEqual(['data.x']);
    expect(sms('{{#data.nope}}{{data.x}}{{/data.nope}}', s).missing).toEqual([]);
    expect(sms('{{#data.list}}{{a}}{{/data.list}}', s)).toEqual({ text: '1', missing: ['data.list[].a'] });
    expect(sms('{{#data.obj}}{{a}}{{b}}{{/data.obj}}', s)).toEqual({ text: '1', missing: ['data.obj.b'] });
  });

  it('reports default arguments only when all of them are missing', () => {
    expect(sms('{{default profile.nickname "there"}}').missing).toEqual([]);
    expect(sms('{{default profile.nickname profile.firstName}}').missing).toEqual([]);
    expect(sms('{{default profile.nickname profile.other}}').missing).toEqual(['profile.nickname', 'profile.other']);
  });

  it('reports lookups that miss, and their arguments', () => {
    expect(sms('{{lookup profile "firstName"}}{{lookup profile "middleName"}}{{lookup data.map "k"}}').missing).toEqual(
      ['data.map', 'profile.middleName'],
    );
    expect(sms('{{lookup data.items 1}}').missing).toEqual([]);
  });

  it('reports a path climbing above the scope by its original text', () => {
    expect(sms('{{../data.orderId}}').missing).toEqual(['../data.orderId']);
  });

  it('reports paths in webhook bodies', () => {
    const { missingVariables } = renderContent(
      [Channel.WEBHOOK],
      { webhook: { body: '{"id": "{{data.orderId}}", "x": "{{data.x}}"}' } },
      scope,
    );
    expect(missingVariables).toEqual(['data.x']);
  });
});

describe('webhook body', () => {
  it('is optional: without it the rendered webhook content is empty and the provider posts its default body', () => {
    expect(() => validateContent([Channel.WEBHOOK], { webhook: {} })).not.toThrow();
    expect(renderContent([Channel.WEBHOOK], { webhook: {} }, {}).rendered).toEqual({ webhook: {} });
    expect(() => validateContent([Channel.WEBHOOK], { webhook: { body: null } })).toThrow(
      /^webhook\.body: is required$/,
    );
  });

  it('renders every string leaf and keeps the JSON structure and other leaves', () => {
    const body = {
      event: '{{event.name}}',
      order: { id: '{{data.orderId}}', total: 42.5, paid: true, refund: null, note: 'plain' },
      items: ['{{data.items.0.sku}}', ['{{data.items.1.sku}}', 7]],
      '{{data.orderId}}': 'keys are not templates',
    };
    const { rendered } = renderContent([Channel.WEBHOOK], { webhook: { body } }, scope);
    expect(rendered.webhook?.body).toEqual({
      event: 'Segment-TrackEvent:Order Completed',
      order: { id: 'A-1001', total: 42.5, paid: true, refund: null, note: 'plain' },
      items: ['SKU-1', ['SKU-2', 7]],
      '{{data.orderId}}': 'keys are not templates',
    });
    expect(body.order.id).toBe('{{data.orderId}}'); // the input is not mutated
  });

  it('renders values as text without escaping', () => {
    const { rendered } = renderContent(
      [Channel.WEBHOOK],
      { webhook: { body: { total: '{{data.total}}', markup: '{{data.markup}}' } } },
      scope,
    );
    expect(rendered.webhook?.body).toEqual({ total: '42.5', markup: '<b>"Tom" & Jerry</b>' });
  });

  it('renders an array body', () => {
    const { rendered } = renderContent([Channel.WEBHOOK], { webhook: { body: ['{{data.orderId}}', 1] } }, scope);
    expect(rendered.webhook?.body).toEqual(['A-1001', 1]);
  });

  it('renders a string body to a string', () => {
    const { rendered } = renderContent(
      [Channel.WEBHOOK],
      { webhook: { body: '{"id":"{{data.orderId}}","total":{{data.total}} }' } },
      scope,
    );
    expect(rendered.webhook?.body).toBe('{"id":"A-1001","total":42.5 }');
  });

  it('keeps a "__proto__" key as data', () => {
    const body = JSON.parse('{"__proto__": "{{data.orderId}}", "a": "b"}');
    const { rendered } = renderContent([Channel.WEBHOOK], { webhook: { body } }, scope);
    const out = rendered.webhook?.body as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('A-1001');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});

describe('validateContent', () => {
  it('accepts content for every channel', () => {
    expect(() => validateContent(ALL, ALL_CONTENT)).not.toThrow();
    expect(() => validateContent([Channel.EMAIL], { email: { subject: 's', html: '<p>x</p>' } })).not.toThrow();
    expect(() => validateContent([Channel.EMAIL], { email: { subject: 's', text: 'x', html: '' } })).not.toThrow();
    expect(() => validateContent([Channel.WEBHOOK], { webhook: { body: [] } })).not.toThrow();
  });

  it('allows content for a channel that is not listed, and validates it', () => {
    expect(() => validateContent([Channel.SMS], { sms: ALL_CONTENT.sms, push: ALL_CONTENT.push })).not.toThrow();
    expect(contentError([Channel.SMS], { sms: ALL_CONTENT.sms, push: { title: 'x' } }).message).toBe(
      'push.body: is required',
    );
  });

  it('throws a typed, BAD_USER_INPUT error with its location', () => {
    const e = contentError([Channel.EMAIL], { email: { subject: 'Hi', html: '<p>\n\n{{profile.firstName</p>' } });
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e).toMatchObject({ channel: Channel.EMAIL, field: 'html', line: 3 });
    expect(e.column).toEqual(expect.any(Number));
    expect(e.details).toMatchObject({ channel: 'EMAIL', field: 'html', line: 3 });
    expect(e.message).toBe('email.html: line 3, column 1: `{{` is never closed (expected `}}`)');
  });

  it.each<[string, Channel[], unknown, RegExp, Partial<TemplateContentError>]>([
    ['content that is not an object', [], 'hello', /^content: must be an object/, {}],
    ['array content', [], [], /^content: must be an object.*got an array/, {}],
    ['an unknown channel key', [], { fax: { body: 'x' } }, /^content\.fax: unknown channel "fax"/, {}],
    ['an upper-case channel key', [Channel.SMS], { SMS: { body: 'x' } }, /^content\.SMS: unknown channel/, {}],
    [
      'a listed channel without content',
      [Channel.SMS, Channel.PUSH],
      { sms: { body: 'x' } },
      /^push: content is missing for channel PUSH$/,
      { channel: Channel.PUSH },
    ],
    ['an unknown channel in the list', ['FAX' as Channel], {}, /^channels: unknown channel "FAX"/, {}],
    [
      'channel content that is not an object',
      [Channel.SMS],
      { sms: 'hi' },
      /^sms: must be an object with body/,
      { channel: Channel.SMS },
    ],
    [
      'email without subject',
      [Channel.EMAIL],
      { email: { text: 'x' } },
      /^email\.subject: is required$/,
      { field: 'subject' },
    ],
    [
      'an empty subject',
      [Channel.EMAIL],
      { email: { subject: '  ', text: 'x' } },
      /^email\.subject: must not be empty$/,
      { field: 'subject' },
    ],
    [
      'email without html or text',
      [Channel.EMAIL],
      { email: { subject: 's' } },
      /^email: needs html or text \(or both\)$/,
      { channel: Channel.EMAIL },
    ],
    [
      'email with empty html and text',
      [Channel.EMAIL],
      { email: { subject: 's', html: '', text: ' ' } },
      /^email: needs html or text/,
      {},
    ],
    [
      'a non-string html',
      [Channel.EMAIL],
      { email: { subject: 's', html: 5 } },
      /^email\.html: must be a string, got number 5$/,
      { field: 'html' },
    ],
    [
      'an unknown field',
      [Channel.EMAIL],
      { email: { subject: 's', text: 't', from: 'a@b.c' } },
      /^email\.from: unknown field; email has subject, html, text$/,
      { field: 'from' },
    ],
    [
      'sms without body',
      [Channel.SMS],
      { sms: {} },
      /^sms\.body: is required$/,
      { channel: Channel.SMS, field: 'body' },
    ],
    ['sms with a null body', [Channel.SMS], { sms: { body: null } }, /^sms\.body: is required$/, {}],
    ['push without title', [Channel.PUSH], { push: { body: 'b' } }, /^push\.title: is required$/, { field: 'title' }],
    ['push without body', [Channel.PUSH], { push: { title: 't' } }, /^push\.body: is required$/, { field: 'body' }],
    [
      'push with an object title',
      [Channel.PUSH],
      { push: { title: {}, body: 'b' } },
      /^push\.title: must be a string, got an object$/,
      {},
    ],
    [
      'slack without text',
      [Channel.SLACK],
      { slack: { body: 'x' } },
      /^slack\.body: unknown field; slack has text$/,
      {},
    ],
    ['slack with empty text', [Channel.SLACK], { slack: { text: '' } }, /^slack\.text: must not be empty$/, {}],
    [
      'msteams without text',
      [Channel.MSTEAMS],
      { msteams: {} },
      /^msteams\.text: is required$/,
      { channel: Channel.MSTEAMS },
    ],
    [
      'whatsapp with an array body',
      [Channel.WHATSAPP],
      { whatsapp: { body: ['x'] } },
      /^whatsapp\.body: must be a string, got an array$/,
      {},
    ],
    [
      'webhook with a number body',
      [Channel.WEBHOOK],
      { webhook: { body: 5 } },
      /^webhook\.body: must be a JSON object or array, or a template string/,
      {},
    ],
    [
      'webhook with an empty string body',
      [Channel.WEBHOOK],
      { webhook: { body: '' } },
      /^webhook\.body: must not be empty$/,
      {},
    ],
  ])('rejects %s', (_, channels, content, message, props) => {
    const e = contentError(channels, content);
    expect(e.message).toMatch(message);
    expect(e).toMatchObject(props);
  });

  describe('template errors', () => {
    it('reports Handlebars parse errors with the line', () => {
      const e = contentError([Channel.EMAIL], {
        email: { subject: 'ok', html: '<html>\n<body>\n{{#if data.vip}}\n<p>VIP</p>\n</body>' },
      });
      expect(e).toMatchObject({ channel: Channel.EMAIL, field: 'html', line: 3, column: 1 });
      expect(e.message).toBe('email.html: line 3, column 1: `{{#if}}` is never closed (add `{{/if}}`)');
    });

    it('reports an unclosed mustache on its line and column', () => {
      const e = contentError([Channel.SMS], { sms: { body: 'Hi\n  {{profile.firstName' } });
      expect(e).toMatchObject({ field: 'body', line: 2, column: 3 });
      expect(e.message).toBe('sms.body: line 2, column 3: `{{` is never closed (expected `}}`)');
    });

    it('reports mismatched blocks with line and column', () => {
      const e = contentError([Channel.SLACK], { slack: { text: 'a\n  {{#if x}}y{{/each}}' } });
      expect(e).toMatchObject({ line: 2, column: 13 }); // the `{{/each}}`
      expect(e.message).toBe(
        'slack.text: line 2, column 13: `{{/each}}` does not match `{{#if}}` opened at line 2, column 3 (close it with `{{/if}}`)',
      );
    });

    it('reports lexical errors', () => {
      const e = contentError([Channel.SMS], { sms: { body: 'x {{!-- never closed' } });
      expect(e.message).toBe('sms.body: line 1, column 3: the comment `{{!--` is never closed (`--}}`)');
    });

    it('reports errors in webhook leaves with their JSON path', () => {
      const body = { items: [{ name: 'ok' }, { name: '{{data.x' }] };
      expect(contentError([Channel.WEBHOOK], { webhook: { body } })).toMatchObject({
        channel: Channel.WEBHOOK,
        field: 'body.items[1].name',
        line: 1,
      });
      const e = contentError([Channel.WEBHOOK], { webhook: { body: { 'a b': '{{/x}}' } } });
      expect(e.message).toBe('webhook.body["a b"]: line 1, column 1: `{{/x}}` closes a block that was never opened');
    });

    it.each<[string, string, RegExp]>([
      [
        'an unknown helper',
        'x {{upper data.name}}',
        /line 1, column 3: unknown helper "upper"; helpers are if, unless, each, with, lookup, default$/,
      ],
      ['log (no template output on stdout)', '{{log data}}', /unknown helper "log"/],
      ['a path called with arguments', '{{data.fn 1}}', /unknown helper "data.fn"/],
      ['an unknown helper in a subexpression', '{{default (shout data.x) "y"}}', /unknown helper "shout"/],
      ['an unknown block helper with arguments', '{{#repeat 3}}x{{/repeat}}', /unknown helper "repeat"/],
      ['a partial', 'a\n{{> footer}}', /line 2, column 1: partials \(\{\{> name\}\}\) are not supported$/],
      ['a partial block', '{{#> layout}}x{{/layout}}', /partials/],
      ['an inline partial', '{{#*inline "x"}}y{{/inline}}', /decorators and inline partials/],
      ['if without a block', '{{if data.x}}', /"if" is a block helper: use \{\{#if …\}\}…\{\{\/if\}\}/],
      ['each without an argument', '{{#each}}x{{/each}}', /"each" takes exactly 1 argument, got 0/],
      ['with with two arguments', '{{#with a b}}x{{/with}}', /"with" takes exactly 1 argument, got 2/],
      ['lookup with one argument', '{{lookup data}}', /"lookup" takes exactly 2 arguments, got 1/],
      ['default without arguments', '{{default}}', /"default" takes at least 1 argument, got 0/],
    ])('rejects %s', (_, body, message) => {
      const e = contentError([Channel.SMS], { sms: { body } });
      expect(e.message).toMatch(/^sms\.body: /);
      expect(e.message).toMatch(message);
      expect(e.line).toEqual(expect.any(Number));
    });

    it('accepts the supported constructs', () => {
      const body = [
        '{{! a comment }}{{!-- another --}}',
        '{{#if data.a}}a{{else if data.b}}b{{else}}c{{/if}}',
        '{{#unless data.a}}x{{/unless}}',
        '{{#each data.items as |item i|}}{{i}} {{item.sku}} {{@index}} {{@first}} {{../data.a}}{{else}}none{{/each}}',
        '{{#with profile.address}}{{city}}{{/with}}',
        '{{lookup profile "firstName"}} {{default data.a (lookup profile "x") "z"}}',
        '{{{data.raw}}} {{data.items.[0].sku}} {{@root.data.a}} {{this}}',
        '{{#data.flag}}on{{/data.flag}}',
      ].join('\n');
      expect(() => validateContent([Channel.SMS], { sms: { body } })).not.toThrow();
    });
  });
});

describe('single templates', () => {
  it('validateTemplate checks one string', () => {
    expect(() => validateTemplate('{{#if data.vip}}VIP{{/if}}')).not.toThrow();
    expect(() => validateTemplate('{{#if data.vip}}', { channel: Channel.PUSH, field: 'title' })).toThrow(
      /^push\.title: line 1, column 1: `\{\{#if\}\}` is never closed/,
    );
    expect(() => validateTemplate('{{nope 1}}')).toThrow(/^template: line 1, column 1: unknown helper "nope"/);
  });

  it('renderTemplate renders one string, escaping on request', () => {
    expect(renderTemplate('Hi {{default profile.x "there"}} {{data.markup}}', scope)).toEqual({
      text: 'Hi there <b>"Tom" & Jerry</b>',
      missingVariables: [],
    });
    expect(renderTemplate('{{data.markup}}{{data.y}}', scope, { escapeHtml: true })).toEqual({
      text: '&lt;b&gt;&quot;Tom&quot; &amp; Jerry&lt;/b&gt;',
      missingVariables: ['data.y'],
    });
  });
});

describe('the channel table drives validation and rendering', () => {
  it.each(Object.values(Channel))('%s: its required fields are required, other fields refused', (channel) => {
    const { contentKey: key, content, oneOf } = channelDefinition(channel);
    const needed = Object.keys(content).filter((f) => content[f].required || oneOf?.[0] === f);
    const minimal = Object.fromEntries(needed.map((f) => [f, `{{data.orderId}} ${f}`]));
    expect(() => validateContent([channel], { [key]: minimal })).not.toThrow();
    expect(renderContent([channel], { [key]: minimal }, scope).rendered).toEqual({
      [key]: Object.fromEntries(needed.map((f) => [f, `A-1001 ${f}`])),
    });
    for (const field of needed) {
      const { [field]: _left, ...rest } = minimal;
      expect(() => validateContent([channel], { [key]: rest })).toThrow(TemplateContentError);
    }
    expect(() => validateContent([channel], { [key]: { ...minimal, nope: 'x' } })).toThrow(/: unknown field; /);
  });
});

describe('webhook body written as a JSON template string (issue 14, item 2)', () => {
  const hook = (body: string, s: TemplateScope = scope) => {
    const { rendered, missingVariables } = renderContent([Channel.WEBHOOK], { webhook: { body } }, s);
    return { text: rendered.webhook?.body as string, missing: missingVariables };
  };
  const nasty: TemplateScope = {
    data: { orderId: 'A-1', n: 3, qty: '2', vip: 'true', note: 'a"b\\c', inject: 'x","admin":true,"y":"z' },
    profile: { name: 'Ann "The" \\ Bo\n', address: { city: 'Berlin' }, tags: ['vip', 'new'] },
  };

  it('accepts `}}}` after a `{{…}}` mustache at save: the last `}` is JSON text, not a triple-stash end', () => {
    for (const body of [
      '{"order":"{{data.orderId}}","n":{{data.n}}}',
      '{"a":{"b":{{data.n}}}}',
      '{"items":[{{#each data.items}}{"sku":"{{sku}}"}{{#unless @last}},{{/unless}}{{/each}}]}',
      '{"raw":{{{data.n}}}}',
    ]) {
      expect(() => validateContent([Channel.WEBHOOK], { webhook: { body } })).not.toThrow();
    }
  });

  it('renders such a body to the JSON text the author wrote', () => {
    expect(hook('{"order":"{{data.orderId}}","n":{{data.total}}}').text).toBe('{"order":"A-1001","n":42.5}');
    expect(JSON.parse(hook('{"a":{"b":{{data.total}}}}').text)).toEqual({ a: { b: 42.5 } });
    const items = hook(
      '{"items":[{{#each data.items}}{"sku":"{{sku}}","qty":{{qty}}}{{#unless @last}},{{/unless}}{{/each}}]}',
    );
    expect(JSON.parse(items.text)).toEqual({
      items: [
        { sku: 'SKU-1', qty: 2 },
        { sku: 'SKU-2', qty: 1 },
      ],
    });
  });

  it('JSON-escapes values inside a JSON string: `"` or `\\` neither break the body nor add keys', () => {
    const { text } = hook('{"note":"{{data.note}}","x":"{{data.inject}}","who":"{{profile.name}}"}', nasty);
    expect(JSON.parse(text)).toEqual({ note: 'a"b\\c', x: 'x","admin":true,"y":"z', who: 'Ann "The" \\ Bo\n' });
    expect(Object.keys(JSON.parse(text))).toEqual(['note', 'x', 'who']);
    // also inside a longer string and in a key
    expect(JSON.parse(hook('{"{{data.note}}":"Order {{data.note}}!"}', nasty).text)).toEqual({
      'a"b\\c': 'Order a"b\\c!',
    });
  });

  it('inserts one JSON value outside a string: numbers stay numbers, other strings are quoted, missing is null', () => {
    const { text, missing } = hook(
      '{"n":{{data.n}},"qty":{{data.qty}},"vip":{{data.vip}},"x":{{data.inject}},"tags":{{profile.tags}},"addr":{{profile.address}},"none":{{data.nope}}}',
      nasty,
    );
    expect(JSON.parse(text)).toEqual({
      n: 3,
      qty: 2,
      vip: true,
      x: 'x","admin":true,"y":"z',
      tags: ['vip', 'new'],
      addr: { city: 'Berlin' },
      none: null,
    });
    expect(missing).toEqual(['data.nope']);
  });

  it('judges the position by the rendered text, so blocks and else branches work', () => {
    const body = '{"v":{{#if data.vip}}"{{data.note}}"{{else}}{{data.n}}{{/if}}}';
    expect(JSON.parse(hook(body, nasty).text)).toEqual({ v: 'a"b\\c' });
    expect(JSON.parse(hook(body, { data: { n: 7 } }).text)).toEqual({ v: 7 });
  });

  it('inserts a triple-stash as is', () => {
    expect(hook('{"raw":{{{data.n}}}}', nasty).text).toBe('{"raw":3}');
  });

  it('fails with a clear reason when the rendered body is not valid JSON', () => {
    expect(() => hook('{"n": {{data.n}}', nasty)).toThrow(/^webhook\.body: the rendered body is not valid JSON \(.+\)/);
    expect(() => hook('Order {{data.orderId}} shipped')).toThrow(TemplateContentError);
    expect(() => hook('{"v": {{data.n}}x}', nasty)).toThrow(/not valid JSON/);
  });

  it('keeps the JSON-object form: string leaves are text, placed as JSON strings', () => {
    const { rendered } = renderContent(
      [Channel.WEBHOOK],
      { webhook: { body: { note: '{{data.note}}', x: '{{data.inject}}' } } },
      nasty,
    );
    expect(rendered.webhook?.body).toEqual({ note: 'a"b\\c', x: 'x","admin":true,"y":"z' });
  });

  it('reads `{{x}}}` as a mustache and a `}` in every template, without moving error columns', () => {
    expect(sms('{{data.orderId}}}').text).toBe('A-1001}');
    expect(sms('{{data.orderId}}}}} {{{data.markup}}}}').text).toBe('A-1001}}} <b>"Tom" & Jerry</b>}');
    const e = contentError([Channel.SMS], { sms: { body: '{"a":{{data.x}}} {{#if y}}' } });
    expect(e).toMatchObject({ line: 1, column: 18 });
  });
});

describe('template syntax errors in a template author’s words (issue 14, item 8)', () => {
  it.each<[string, string, string]>([
    ['an unclosed mustache', 'Hi {{profile.firstName', 'line 1, column 4: `{{` is never closed (expected `}}`)'],
    [
      'a mustache closed by one brace',
      '<p>{{data.x}</p>\n<p>Bye {{data.y}}</p>',
      'line 1, column 4: `{{` is never closed (expected `}}`)',
    ],
    [
      'an unclosed block',
      'a\n{{#each data.items}}x',
      'line 2, column 1: `{{#each}}` is never closed (add `{{/each}}`)',
    ],
    [
      'a close without an open',
      'a\nb\n{{/each}}',
      'line 3, column 1: `{{/each}}` closes a block that was never opened',
    ],
    [
      'a close of another block',
      '{{#if a}}{{#each b}}x{{/if}}{{/each}}',
      'line 1, column 22: `{{/if}}` does not match `{{#each}}` opened at line 1, column 10 (close it with `{{/each}}`)',
    ],
    [
      'an else outside a block',
      'x {{else}} y',
      'line 1, column 3: `{{else}}` is outside any block: it belongs between `{{#if …}}` (or `#each`, `#unless`, `#with`) and its end',
    ],
    ['an unclosed comment', 'x\n {{!-- note', 'line 2, column 2: the comment `{{!--` is never closed (`--}}`)'],
    [
      'a triple-stash closed by `}}`',
      '{{{data.x}}',
      'line 1, column 1: `{{{` is closed by `}}`: a triple-stash closes with `}}}`',
    ],
    [
      'an unclosed string',
      '{{default data.x "there}}',
      'line 1, column 18: the string starting with `"` is never closed',
    ],
    [
      'an empty mustache',
      'a {{}}',
      'line 1, column 5: unexpected `}}` (expected a name, a string, a number, `true` or `false`, `undefined`)',
    ],
    [
      'an unclosed parenthesis',
      '{{default (lookup a "b"}}',
      'line 1, column 24: unexpected `}}` (expected `(`, `)`, a name, a string, a number)',
    ],
    [
      'a stray parenthesis',
      '{{data.x)}}',
      'line 1, column 9: unexpected `)` (expected `}}`, `(`, a name, a string, a number)',
    ],
    [
      'an unknown helper',
      'x {{upper data.name}}',
      'line 1, column 3: unknown helper "upper"; helpers are if, unless, each, with, lookup, default',
    ],
  ])('%s', (_, body, message) => {
    const e = contentError([Channel.SMS], { sms: { body } });
    expect(e.message).toBe(`sms.body: ${message}`);
    expect(e.message).not.toMatch(/Parse error|Expecting|OPEN_|CLOSE|EOF|INVALID/);
    const [, line, column] = /^line (\d+), column (\d+)/.exec(message)!;
    expect(e).toMatchObject({ channel: Channel.SMS, field: 'body', line: Number(line), column: Number(column) });
    expect(e.details).toMatchObject({ channel: 'SMS', field: 'body', line: Number(line), column: Number(column) });
  });

  it('renderContent (previewTemplate) reports the same words', () => {
    expect(() => renderContent([Channel.PUSH], { push: { title: 'x', body: 'a {{#if b}}' } }, scope)).toThrow(
      'push.body: line 1, column 3: `{{#if}}` is never closed (add `{{/if}}`)',
    );
  });
});

describe('JSON template strings, by property', () => {
  const nasty = fc.string({
    unit: fc.constantFrom('"', '\\', '}', '{', ',', ':', 'a', ' ', '\n', '\u2028', 'é', '\u0000'),
  });
  const value = fc.oneof(
    nasty,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(nasty),
    fc.dictionary(nasty, nasty, { noNullPrototype: true }),
  );

  it('any value, in a string or not, keeps the body valid JSON with exactly the keys written', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const { rendered } = renderContent(
          [Channel.WEBHOOK],
          { webhook: { body: '{"s":"<{{data.a}}>","v":{{data.b}},"t":"{{data.b}}"}' } },
          { data: { a, b } },
        );
        const parsed = JSON.parse(rendered.webhook?.body as string);
        expect(Object.keys(parsed)).toEqual(['s', 'v', 't']);
        expect(parsed.s).toBe(`<${a === null ? '' : String(a)}>`);
      }),
      { numRuns: 300 },
    );
  });

  it('a template Handlebars already read renders exactly as before (`}}}` handling changes only refused ones)', () => {
    const piece = fc.constantFrom(
      '{{data.a}}',
      '{{{data.a}}}',
      '}',
      '{',
      '"',
      '{{#if data.a}}',
      '{{/if}}',
      '{{else}}',
      'x',
      '{{!c}}',
      '\\{{data.a}}',
      '~',
      '{{~data.a~}}',
    );
    const plain = Handlebars.create();
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const source = parts.join('');
        let expected: string;
        try {
          expected = plain.compile(source, { noEscape: true })({ data: { a: 'A' } });
        } catch {
          return; // refused by Handlebars: ours may read it
        }
        expect(renderTemplate(source, { data: { a: 'A' } }).text).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
