import {
  Condition,
  ConditionError,
  ConditionScope,
  MAX_CONDITION_DEPTH,
  Operator,
  OPERATORS,
  conditionHolds,
  evaluateCondition,
  validateCondition,
} from '../../src/domain/routing/condition';
import { InvalidInputError } from '../../src/domain/domain-error';

const NOW = Date.parse('2024-06-15T12:00:00Z');

const scope: ConditionScope = {
  data: {
    amount: 150,
    amountText: '150',
    currency: 'EUR',
    items: [
      { sku: 'A-1', qty: 2 },
      { sku: 'B-2', qty: 1 },
    ],
    tags: ['vip', 'beta'],
    nothing: null,
    nested: { deep: { value: true } },
    createdAt: '2024-06-01T10:00:00Z',
    dueDate: '2024-07-01',
    flag: false,
    zero: 0,
    empty: '',
  },
  profile: {
    plan: 'pro',
    email: 'ada@acme.com',
    phone: '+4915112345678',
    country: 'DE',
    address: { city: 'Berlin', zip: '10115' },
    trial_ends_at: '2024-06-17T00:00:00Z',
    order_completed_last_30days: true,
  },
  event: {
    name: 'Segment-TrackEvent:Order Completed',
    properties: { total: 99.5 },
    timestamp: new Date('2024-06-15T11:30:00Z'),
  },
};

function leaf(path: string, op: `${Operator}`, value?: unknown): Condition {
  return value === undefined ? { path, op } : { path, op, value };
}

function evaluate(tree: unknown, s: ConditionScope = scope) {
  return evaluateCondition(tree, s, { now: NOW });
}

function holds(path: string, op: `${Operator}`, value?: unknown): boolean {
  return evaluate(leaf(path, op, value)).result;
}

function errorOf(tree: unknown): ConditionError {
  try {
    validateCondition(tree);
  } catch (e) {
    expect(e).toBeInstanceOf(ConditionError);
    return e as ConditionError;
  }
  throw new Error('expected validateCondition to throw');
}

describe('operators', () => {
  it('lists all fifteen operators', () => {
    expect([...OPERATORS].sort()).toEqual(
      [
        'EQ',
        'NEQ',
        'GT',
        'GTE',
        'LT',
        'LTE',
        'IN',
        'NOT_IN',
        'INCLUDES',
        'EXISTS',
        'NOT_EXISTS',
        'STARTS_WITH',
        'ENDS_WITH',
        'IS_BEFORE',
        'IS_AFTER',
      ].sort(),
    );
  });

  describe('EQ / NEQ', () => {
    it('compares scalars strictly', () => {
      expect(holds('profile.plan', 'EQ', 'pro')).toBe(true);
      expect(holds('profile.plan', 'EQ', 'free')).toBe(false);
      expect(holds('data.amount', 'EQ', 150)).toBe(true);
      expect(holds('data.amount', 'EQ', '150')).toBe(false);
      expect(holds('data.amountText', 'EQ', 150)).toBe(false);
      expect(holds('data.flag', 'EQ', false)).toBe(true);
      expect(holds('data.zero', 'EQ', false)).toBe(false);
      expect(holds('data.nothing', 'EQ', null)).toBe(true);
      expect(holds('profile.order_completed_last_30days', 'EQ', true)).toBe(true);
    });

    it('compares objects and arrays deeply (object key order does not matter, array order does)', () => {
      expect(holds('profile.address', 'EQ', { zip: '10115', city: 'Berlin' })).toBe(true);
      expect(holds('profile.address', 'EQ', { city: 'Berlin' })).toBe(false);
      expect(holds('profile.address', 'EQ', { city: 'Berlin', zip: 10115 })).toBe(false);
      expect(holds('data.tags', 'EQ', ['vip', 'beta'])).toBe(true);
      expect(holds('data.tags', 'EQ', ['beta', 'vip'])).toBe(false);
      expect(
        holds('data.items', 'EQ', [
          { sku: 'A-1', qty: 2 },
          { qty: 1, sku: 'B-2' },
        ]),
      ).toBe(true);
      expect(holds('data.tags', 'EQ', { 0: 'vip', 1: 'beta' })).toBe(false);
    });

    it('NEQ is the negation, and true when the path is missing', () => {
      expect(holds('profile.plan', 'NEQ', 'free')).toBe(true);
      expect(holds('profile.plan', 'NEQ', 'pro')).toBe(false);
      expect(holds('data.amount', 'NEQ', '150')).toBe(true);
      expect(holds('profile.address', 'NEQ', { city: 'Berlin', zip: '10115' })).toBe(false);
      expect(holds('profile.missing', 'NEQ', 'x')).toBe(true);
      expect(holds('profile.missing', 'EQ', 'x')).toBe(false);
      expect(holds('profile.missing', 'EQ', null)).toBe(false);
    });
  });

  describe('GT / GTE / LT / LTE', () => {
    it('compares numbers', () => {
      expect(holds('data.amount', 'GT', 100)).toBe(true);
      expect(holds('data.amount', 'GT', 150)).toBe(false);
      expect(holds('data.amount', 'GTE', 150)).toBe(true);
      expect(holds('data.amount', 'GTE', 151)).toBe(false);
      expect(holds('data.amount', 'LT', 151)).toBe(true);
      expect(holds('data.amount', 'LT', 150)).toBe(false);
      expect(holds('data.amount', 'LTE', 150)).toBe(true);
      expect(holds('data.amount', 'LTE', 149.99)).toBe(false);
      expect(holds('event.properties.total', 'LT', 100)).toBe(true);
    });

    it('never coerces numeric strings', () => {
      expect(holds('data.amountText', 'GT', 100)).toBe(false);
      expect(holds('data.amountText', 'LT', 1000)).toBe(false);
      expect(holds('data.flag', 'LT', 1)).toBe(false);
      expect(holds('data.nothing', 'LT', 1)).toBe(false);
    });

    it('compares dates when both sides are ISO dates', () => {
      expect(holds('data.createdAt', 'GT', '2024-05-31')).toBe(true);
      expect(holds('data.createdAt', 'GT', '2024-06-02')).toBe(false);
      expect(holds('data.createdAt', 'GTE', '2024-06-01T10:00:00Z')).toBe(true);
      expect(holds('data.createdAt', 'GTE', '2024-06-01T12:00:00+01:00')).toBe(false);
      expect(holds('data.dueDate', 'LT', '2024-07-01T00:00:01Z')).toBe(true);
      expect(holds('data.dueDate', 'LTE', '2024-07-01T00:00:00Z')).toBe(true);
      expect(holds('data.dueDate', 'LT', '2024-07-01')).toBe(false);
      expect(holds('event.timestamp', 'GT', '2024-06-15T11:00:00Z')).toBe(true); // a Date object in the scope
    });

    it('is false when one side is a date and the other is not', () => {
      expect(holds('data.currency', 'GT', '2024-01-01')).toBe(false);
      expect(holds('data.amount', 'GT', '2024-01-01')).toBe(false);
      expect(holds('data.createdAt', 'GT', 5)).toBe(false);
    });

    it('is false when the path is missing', () => {
      expect(holds('data.missing', 'GT', 1)).toBe(false);
      expect(holds('data.missing', 'LTE', 1)).toBe(false);
    });
  });

  describe('IN / NOT_IN', () => {
    it('IN: the actual value is one of the list (deep equality, strict types)', () => {
      expect(holds('profile.country', 'IN', ['FR', 'DE'])).toBe(true);
      expect(holds('profile.country', 'IN', ['FR', 'IT'])).toBe(false);
      expect(holds('data.amount', 'IN', ['150'])).toBe(false);
      expect(holds('data.amount', 'IN', [150])).toBe(true);
      expect(holds('profile.address', 'IN', [{ city: 'Berlin', zip: '10115' }])).toBe(true);
      expect(holds('profile.country', 'IN', [])).toBe(false);
      expect(holds('profile.missing', 'IN', [null])).toBe(false);
    });

    it('NOT_IN: none of the list, true when missing', () => {
      expect(holds('profile.plan', 'NOT_IN', ['free', 'trial'])).toBe(true);
      expect(holds('profile.plan', 'NOT_IN', ['free', 'pro'])).toBe(false);
      expect(holds('profile.missing', 'NOT_IN', ['free'])).toBe(true);
      expect(holds('data.nothing', 'NOT_IN', [null])).toBe(false);
    });
  });

  describe('INCLUDES', () => {
    it('an array that contains the value', () => {
      expect(holds('data.tags', 'INCLUDES', 'vip')).toBe(true);
      expect(holds('data.tags', 'INCLUDES', 'gold')).toBe(false);
      expect(holds('data.items', 'INCLUDES', { sku: 'B-2', qty: 1 })).toBe(true);
      expect(holds('data.items', 'INCLUDES', { sku: 'B-2' })).toBe(false);
    });

    it('a string that contains the value string', () => {
      expect(holds('profile.email', 'INCLUDES', '@acme')).toBe(true);
      expect(holds('profile.email', 'INCLUDES', '@example')).toBe(false);
      expect(holds('data.amount', 'INCLUDES', '15')).toBe(false);
      expect(holds('data.amountText', 'INCLUDES', 15)).toBe(false);
    });

    it('is false when missing', () => {
      expect(holds('data.missing', 'INCLUDES', 'x')).toBe(false);
    });
  });

  describe('EXISTS / NOT_EXISTS', () => {
    it('EXISTS: present and not null (false, 0 and "" exist)', () => {
      expect(holds('profile.email', 'EXISTS')).toBe(true);
      expect(holds('data.flag', 'EXISTS')).toBe(true);
      expect(holds('data.zero', 'EXISTS')).toBe(true);
      expect(holds('data.empty', 'EXISTS')).toBe(true);
      expect(holds('data.nothing', 'EXISTS')).toBe(false);
      expect(holds('profile.missing', 'EXISTS')).toBe(false);
      expect(holds('profile.address.city.more', 'EXISTS')).toBe(false);
    });

    it('NOT_EXISTS: missing or null', () => {
      expect(holds('profile.missing', 'NOT_EXISTS')).toBe(true);
      expect(holds('data.nothing', 'NOT_EXISTS')).toBe(true);
      expect(holds('profile.email', 'NOT_EXISTS')).toBe(false);
      expect(holds('data.flag', 'NOT_EXISTS')).toBe(false);
    });

    it('ignores a stray value', () => {
      expect(holds('profile.email', 'EXISTS', 'whatever')).toBe(true);
    });
  });

  describe('STARTS_WITH / ENDS_WITH', () => {
    it('match strings case-sensitively', () => {
      expect(holds('profile.phone', 'STARTS_WITH', '+49')).toBe(true);
      expect(holds('profile.phone', 'STARTS_WITH', '+33')).toBe(false);
      expect(holds('profile.email', 'ENDS_WITH', '@acme.com')).toBe(true);
      expect(holds('profile.email', 'ENDS_WITH', '@ACME.COM')).toBe(false);
      expect(holds('data.amount', 'STARTS_WITH', '1')).toBe(false);
      expect(holds('data.tags', 'STARTS_WITH', 'vip')).toBe(false);
      expect(holds('data.missing', 'ENDS_WITH', '')).toBe(false);
    });
  });

  describe('IS_BEFORE / IS_AFTER', () => {
    it('compare against ISO dates', () => {
      expect(holds('data.createdAt', 'IS_BEFORE', '2024-06-02')).toBe(true);
      expect(holds('data.createdAt', 'IS_BEFORE', '2024-06-01T10:00:00Z')).toBe(false);
      expect(holds('data.createdAt', 'IS_AFTER', '2024-06-01T09:59:59Z')).toBe(true);
      expect(holds('data.createdAt', 'IS_AFTER', '2024-06-01T11:00:00+01:00')).toBe(false);
      expect(holds('event.timestamp', 'IS_BEFORE', '2024-06-15T12:00:00Z')).toBe(true);
    });

    it('compare against relative dates', () => {
      expect(holds('profile.trial_ends_at', 'IS_BEFORE', 'now+3d')).toBe(true);
      expect(holds('profile.trial_ends_at', 'IS_BEFORE', 'now+1d')).toBe(false);
      expect(holds('profile.trial_ends_at', 'IS_AFTER', 'now')).toBe(true);
      expect(holds('data.createdAt', 'IS_AFTER', 'now-15d')).toBe(true);
      expect(holds('data.createdAt', 'IS_AFTER', 'now-2w')).toBe(false);
      expect(holds('event.timestamp', 'IS_AFTER', 'now-45m')).toBe(true);
      expect(holds('event.timestamp', 'IS_AFTER', 'now-1800s')).toBe(false);
      expect(holds('event.timestamp', 'IS_BEFORE', 'now-1h')).toBe(false);
    });

    it('are false for non-dates and missing paths', () => {
      expect(holds('data.amount', 'IS_BEFORE', 'now')).toBe(false);
      expect(holds('data.currency', 'IS_AFTER', '2020-01-01')).toBe(false);
      expect(holds('data.missing', 'IS_BEFORE', 'now')).toBe(false);
    });

    it('read dates without an offset as UTC', () => {
      expect(holds('data.createdAt', 'IS_AFTER', '2024-06-01T09:59')).toBe(true);
      expect(holds('data.createdAt', 'IS_BEFORE', '2024-06-01T10:00:00.001')).toBe(true);
    });
  });
});

describe('paths', () => {
  it('look into data, profile traits and event, deeply, with array indexes', () => {
    expect(holds('data.nested.deep.value', 'EQ', true)).toBe(true);
    expect(holds('data.items.0.sku', 'EQ', 'A-1')).toBe(true);
    expect(holds('data.items.1.qty', 'EQ', 1)).toBe(true);
    expect(holds('data.items.2.sku', 'EXISTS')).toBe(false);
    expect(holds('data.items.length', 'EQ', 2)).toBe(true);
    expect(holds('profile.address.city', 'EQ', 'Berlin')).toBe(true);
    expect(holds('event.name', 'ENDS_WITH', ':Order Completed')).toBe(true);
    expect(holds('event.properties.total', 'EQ', 99.5)).toBe(true);
  });

  it('never walk into prototypes or primitives', () => {
    expect(holds('data.constructor', 'EXISTS')).toBe(false);
    expect(holds('data.__proto__', 'EXISTS')).toBe(false);
    expect(holds('data.tags.map', 'EXISTS')).toBe(false);
    expect(holds('data.currency.length', 'EXISTS')).toBe(false);
  });

  it('treat a missing root (no event for a direct send, no profile) as missing', () => {
    const r = evaluate(
      { all: [leaf('event.name', 'NOT_EXISTS'), leaf('profile.plan', 'NEQ', 'pro')] },
      { data: {}, event: null },
    );
    expect(r.result).toBe(true);
  });
});

describe('groups', () => {
  const yes = leaf('profile.plan', 'EQ', 'pro');
  const no = leaf('profile.plan', 'EQ', 'free');

  it('all / any / not', () => {
    expect(evaluate({ all: [yes, yes] }).result).toBe(true);
    expect(evaluate({ all: [yes, no] }).result).toBe(false);
    expect(evaluate({ any: [no, yes] }).result).toBe(true);
    expect(evaluate({ any: [no, no] }).result).toBe(false);
    expect(evaluate({ not: yes }).result).toBe(false);
    expect(evaluate({ not: no }).result).toBe(true);
    expect(evaluate({ not: { not: yes } }).result).toBe(true);
  });

  it('nest', () => {
    const tree = {
      all: [
        leaf('data.amount', 'GT', 100),
        { any: [leaf('profile.country', 'EQ', 'FR'), { not: leaf('profile.plan', 'IN', ['free', 'trial']) }] },
      ],
    };
    expect(evaluate(tree).result).toBe(true);
    expect(evaluate(tree, { ...scope, data: { amount: 50 } }).result).toBe(false);
    expect(evaluate(tree, { ...scope, profile: { plan: 'free' } }).result).toBe(false);
    expect(evaluate(tree, { ...scope, profile: { plan: 'free', country: 'FR' } }).result).toBe(true);
  });
});

describe('trace', () => {
  it('records every leaf with pointer, path, op, expected, actual and result', () => {
    const tree = {
      all: [
        leaf('data.amount', 'GT', 100),
        { any: [leaf('profile.country', 'EQ', 'FR'), { not: leaf('profile.missing', 'EXISTS') }] },
      ],
    };
    const { result, trace } = evaluate(tree);
    expect(result).toBe(true);
    expect(trace).toEqual([
      { pointer: 'when.all[0]', path: 'data.amount', op: 'GT', expected: 100, actual: 150, found: true, result: true },
      {
        pointer: 'when.all[1].any[0]',
        path: 'profile.country',
        op: 'EQ',
        expected: 'FR',
        actual: 'DE',
        found: true,
        result: false,
      },
      {
        pointer: 'when.all[1].any[1].not',
        path: 'profile.missing',
        op: 'EXISTS',
        expected: null,
        actual: null,
        found: false,
        result: false,
      },
    ]);
  });

  it('evaluates every leaf, even after the outcome is known', () => {
    const { result, trace } = evaluate({
      any: [leaf('profile.plan', 'EQ', 'pro'), leaf('data.amount', 'LT', 0), leaf('data.currency', 'EQ', 'EUR')],
    });
    expect(result).toBe(true);
    expect(trace.map((t) => [t.pointer, t.result])).toEqual([
      ['when.any[0]', true],
      ['when.any[1]', false],
      ['when.any[2]', true],
    ]);
  });

  it('tells a null value from a missing one', () => {
    const { trace } = evaluate({ all: [leaf('data.nothing', 'EQ', null), leaf('data.absent', 'EQ', null)] });
    expect(trace.map((t) => [t.actual, t.found, t.result])).toEqual([
      [null, true, true],
      [null, false, false],
    ]);
  });

  it('is JSON-safe: objects are copies, dates become ISO strings, relative dates show their instant', () => {
    const { trace } = evaluate({
      all: [leaf('profile.address', 'EXISTS'), leaf('event.timestamp', 'IS_AFTER', 'now-1h')],
    });
    expect(trace[0].actual).toEqual({ city: 'Berlin', zip: '10115' });
    expect(trace[0].actual).not.toBe((scope.profile as Record<string, unknown>).address);
    expect(trace[1]).toMatchObject({
      actual: '2024-06-15T11:30:00.000Z',
      expected: 'now-1h',
      expectedResolved: '2024-06-15T11:00:00.000Z',
      result: true,
    });
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
  });

  it('uses a custom root pointer', () => {
    const { trace } = evaluateCondition({ not: leaf('data.amount', 'EQ', 1) }, scope, { rootPointer: 'rule' });
    expect(trace[0].pointer).toBe('rule.not');
  });
});

describe('conditionHolds', () => {
  it('an absent when always holds', () => {
    expect(conditionHolds(null, scope)).toEqual({ result: true, trace: [] });
    expect(conditionHolds(undefined, scope)).toEqual({ result: true, trace: [] });
  });

  it('evaluates a present when', () => {
    expect(conditionHolds(leaf('profile.plan', 'EQ', 'free'), scope).result).toBe(false);
    expect(conditionHolds(leaf('profile.plan', 'EQ', 'pro'), scope).trace).toHaveLength(1);
  });

  it('rejects an invalid when', () => {
    expect(() => conditionHolds({}, scope)).toThrow(ConditionError);
    expect(() => evaluateCondition({ path: 'amount', op: 'EQ', value: 1 }, scope)).toThrow(ConditionError);
  });

  it('uses the current time by default', () => {
    expect(
      conditionHolds(leaf('data.t', 'IS_BEFORE', 'now+1m'), { data: { t: new Date().toISOString() } }).result,
    ).toBe(true);
  });
});

describe('validateCondition', () => {
  it('accepts valid trees of every operator', () => {
    const valid: Condition = {
      all: [
        leaf('data.a', 'EQ', { any: 'json' }),
        leaf('data.a', 'EQ', null),
        leaf('data.a', 'NEQ', [1]),
        leaf('data.a', 'GT', 1),
        leaf('data.a', 'GTE', '2024-01-01'),
        leaf('data.a', 'LT', -1.5),
        leaf('data.a', 'LTE', '2024-01-01T00:00:00+02:00'),
        leaf('data.a', 'IN', []),
        leaf('data.a', 'NOT_IN', ['x', 1]),
        leaf('data.a', 'INCLUDES', 'x'),
        leaf('profile.a', 'EXISTS'),
        leaf('event.a', 'NOT_EXISTS'),
        leaf('data.a', 'STARTS_WITH', ''),
        leaf('data.a', 'ENDS_WITH', 'x'),
        leaf('data.a', 'IS_BEFORE', 'now'),
        leaf('data.a', 'IS_AFTER', 'now-30d'),
        leaf('data.a', 'IS_AFTER', '2024-02-29T23:59:59.999Z'),
        { any: [{ not: leaf('data.items.0.sku', 'EQ', 'x') }] },
      ],
    };
    expect(() => validateCondition(valid)).not.toThrow();
  });

  it('throws a typed, BAD_USER_INPUT error', () => {
    const e = errorOf(null);
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('BAD_USER_INPUT');
    expect(e.details).toEqual({ pointer: 'when' });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a non-object root', 'data.a > 1', 'when', /must be an object/],
    ['an array node', { all: [[leaf('data.a', 'EXISTS')]] }, 'when.all[0]', /must be an object/],
    ['a null child', { any: [leaf('data.a', 'EXISTS'), null] }, 'when.any[1]', /must be an object.*null/],
    ['an empty node', { all: [leaf('data.a', 'EXISTS'), { any: [{}] }] }, 'when.all[1].any[0]', /one of "all"/],
    ['a leaf without path', { not: { op: 'EQ', value: 1 } }, 'when.not', /needs a path/],
    ['several kinds', { all: [], any: [] }, 'when', /several of "all", "any"/],
    ['a leaf and a group', { path: 'data.a', op: 'EXISTS', not: {} }, 'when', /several of "not", "path"/],
    ['an empty all', { not: { all: [] } }, 'when.not', /"all" must be a non-empty array/],
    ['a non-array any', { any: { path: 'data.a', op: 'EXISTS' } }, 'when', /"any" must be a non-empty array/],
    ['an extra key on a group', { all: [leaf('data.a', 'EXISTS')], name: 'x' }, 'when', /unexpected key "name"/],
    ['an extra key on a leaf', { path: 'data.a', op: 'EQ', valeu: 1 }, 'when', /unexpected key "valeu"/],
    ['a non-string path', { path: 42, op: 'EXISTS' }, 'when', /path must be a string/],
    ['a path outside the roots', { all: [leaf('amount', 'GT', 1)] }, 'when.all[0]', /must start with "data\."/],
    ['a wrong root', { all: [leaf('traits.plan', 'EQ', 1)] }, 'when.all[0]', /"traits.plan" must start/],
    ['a bare root', leaf('data', 'EXISTS'), 'when', /must start with/],
    ['an empty segment', leaf('data..a', 'EXISTS'), 'when', /empty segment/],
    ['a trailing dot', leaf('profile.', 'EXISTS'), 'when', /empty segment/],
    ['a missing op', { path: 'data.a' }, 'when', /op is required/],
    [
      'an unknown op',
      { any: [leaf('data.a', 'EXISTS'), { path: 'data.a', op: 'LIKE' }] },
      'when.any[1]',
      /unknown op "LIKE"/,
    ],
    ['a lowercase op', { path: 'data.a', op: 'eq', value: 1 }, 'when', /unknown op "eq"/],
    ['EQ without value', { path: 'data.a', op: 'EQ' }, 'when', /EQ needs a value/],
    ['INCLUDES without value', { path: 'data.a', op: 'INCLUDES' }, 'when', /INCLUDES needs a value/],
    ['IN with a scalar', leaf('data.a', 'IN', 'x'), 'when', /IN needs an array value, got "x"/],
    ['NOT_IN with an object', leaf('data.a', 'NOT_IN', { a: 1 }), 'when', /NOT_IN needs an array/],
    ['GT with a numeric string', leaf('data.a', 'GT', '100'), 'when', /GT needs a number or an ISO date/],
    ['LTE with a boolean', leaf('data.a', 'LTE', true), 'when', /LTE needs a number or an ISO date/],
    ['GTE with an invalid date', leaf('data.a', 'GTE', '2023-02-30'), 'when', /GTE needs a number or an ISO date/],
    ['LT with a relative date', leaf('data.a', 'LT', 'now-1d'), 'when', /LT needs a number or an ISO date/],
    ['IS_BEFORE with a number', leaf('data.a', 'IS_BEFORE', 1717000000000), 'when', /IS_BEFORE needs an ISO date/],
    ['IS_AFTER with junk', leaf('data.a', 'IS_AFTER', 'yesterday'), 'when', /IS_AFTER needs an ISO date/],
    ['IS_AFTER with a month unit', leaf('data.a', 'IS_AFTER', 'now-1M'), 'when', /relative date/],
    ['IS_BEFORE with a bad hour', leaf('data.a', 'IS_BEFORE', '2024-01-01T24:00:00Z'), 'when', /IS_BEFORE/],
    ['STARTS_WITH with a number', leaf('data.a', 'STARTS_WITH', 4), 'when', /STARTS_WITH needs a string value/],
    ['ENDS_WITH with null', leaf('data.a', 'ENDS_WITH', null), 'when', /ENDS_WITH needs a string value, got null/],
  ])('rejects %s', (_, tree, pointer, message) => {
    const e = errorOf(tree);
    expect(e.pointer).toBe(pointer);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${pointer}: `)).toBe(true);
  });

  it(`allows ${MAX_CONDITION_DEPTH} levels and rejects one more`, () => {
    const nest = (levels: number): unknown => {
      let node: unknown = leaf('data.a', 'EXISTS');
      for (let i = 1; i < levels; i++) node = { not: node };
      return node;
    };
    expect(() => validateCondition(nest(MAX_CONDITION_DEPTH))).not.toThrow();
    const e = errorOf(nest(MAX_CONDITION_DEPTH + 1));
    expect(e.pointer).toBe(`when${'.not'.repeat(MAX_CONDITION_DEPTH)}`);
    expect(e.message).toMatch(/deeper than 20 levels/);

    let wide: unknown = leaf('data.a', 'EXISTS');
    for (let i = 1; i <= MAX_CONDITION_DEPTH; i++) wide = { all: [leaf('data.b', 'EXISTS'), wide] };
    // the first node found at level 21 is the leaf beside the innermost group
    expect(errorOf(wide).pointer).toBe(`when${'.all[1]'.repeat(MAX_CONDITION_DEPTH - 1)}.all[0]`);
  });

  it('uses a custom root pointer', () => {
    try {
      validateCondition({ any: [null] }, 'input.when');
      throw new Error('no error');
    } catch (e) {
      expect((e as ConditionError).pointer).toBe('input.when.any[0]');
    }
  });
});
