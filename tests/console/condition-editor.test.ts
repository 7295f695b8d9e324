import {
  addChild,
  addToRoot,
  changeOperator,
  changeValueType,
  CONDITION_ROOTS,
  describeCondition,
  formatValue,
  kindOf,
  moveChild,
  newLeaf,
  nodeAt,
  OPERATORS,
  parseConditionText,
  parseValue,
  pathProblem,
  pointerToPosition,
  positionToPointer,
  removeAt,
  replaceAt,
  setGroupMode,
  suggestPaths,
  toggleNot,
  toText,
  VALUE_RULES,
  valueTypeOf,
  valueTypesFor,
  wrapInGroup,
  type Json,
} from '../../src/console/client/condition-tree';
import * as server from '../../src/domain/routing/condition.types';
import { validateCondition } from '../../src/domain/routing/condition-validation';
import { ConditionError } from '../../src/domain/routing/condition.types';

/** The pure tree operations behind the console's structured condition editor (condition-editor.tsx). */
describe("the console's condition tree", () => {
  const leaf = (path: string, op: string, value?: Json): Json =>
    value === undefined ? { path, op } : { path, op, value };
  const a = leaf('data.amount', 'GT', 100);
  const b = leaf('profile.plan', 'IN', ['free', 'trial']);
  const c = leaf('event.name', 'EXISTS');
  const tree: Json = { all: [a, { not: b }, { any: [c] }] };

  it("lists exactly the server's operators, value rules and roots", () => {
    expect([...OPERATORS]).toEqual([...server.OPERATORS]);
    expect(VALUE_RULES).toEqual(server.VALUE_RULES);
    expect([...CONDITION_ROOTS]).toEqual([...server.CONDITION_ROOTS]);
  });

  it('tells the kind of each node and reads nodes by position', () => {
    expect(kindOf(tree)).toBe('all');
    expect(kindOf({ any: [] })).toBe('any');
    expect(kindOf({ not: a })).toBe('not');
    expect(kindOf(a)).toBe('leaf');
    expect(kindOf({ path: 'data.x', op: 'EQ', value: 1, extra: true })).toBe('unknown');
    expect(kindOf({ all: [a], any: [a] })).toBe('unknown');
    expect(kindOf([a])).toBe('unknown');
    expect(nodeAt(tree, [])).toBe(tree);
    expect(nodeAt(tree, [1, 'not'])).toEqual(b);
    expect(nodeAt(tree, [2, 0])).toEqual(c);
    expect(nodeAt(tree, [5])).toBeUndefined();
    expect(nodeAt(tree, [0, 'not'])).toBeUndefined();
  });

  it('adds, replaces, removes and moves nodes without changing the original', () => {
    const before = JSON.stringify(tree);
    expect(addChild(tree, [2], newLeaf())).toEqual({
      all: [a, { not: b }, { any: [c, { path: 'data.', op: 'EQ', value: '' }] }],
    });
    expect(replaceAt(tree, [1, 'not'], c)).toEqual({ all: [a, { not: c }, { any: [c] }] });
    expect(removeAt(tree, [0])).toEqual({ all: [{ not: b }, { any: [c] }] });
    // a not without its operand goes with it
    expect(removeAt(tree, [1, 'not'])).toEqual({ all: [a, { any: [c] }] });
    // the last child of a group leaves an empty group (which the server refuses, and says where)
    expect(removeAt(tree, [2, 0])).toEqual({ all: [a, { not: b }, { any: [] }] });
    expect(removeAt(tree, [])).toBeNull();
    expect(moveChild(tree, [], 0, 1)).toEqual({ all: [{ not: b }, a, { any: [c] }] });
    expect(moveChild(tree, [], 0, -1)).toBe(tree);
    expect(JSON.stringify(tree)).toBe(before);
    expect(() => addChild(tree, [0], a)).toThrow('no group at this position');
    expect(() => removeAt(tree, [9])).toThrow('no child at this position');
  });

  it('switches all/any, nests in a group, negates and un-negates', () => {
    expect(setGroupMode(tree, [], 'any')).toEqual({ any: [a, { not: b }, { any: [c] }] });
    expect(wrapInGroup(tree, [0], 'any')).toEqual({ all: [{ any: [a] }, { not: b }, { any: [c] }] });
    expect(wrapInGroup(a, [], 'all')).toEqual({ all: [a] });
    expect(toggleNot(tree, [0])).toEqual({ all: [{ not: a }, { not: b }, { any: [c] }] });
    expect(toggleNot(tree, [1])).toEqual({ all: [a, b, { any: [c] }] });
    expect(addToRoot(null, a)).toBe(a);
    expect(addToRoot(a, c)).toEqual({ all: [a, c] });
    expect(addToRoot({ any: [a] }, c)).toEqual({ any: [a, c] });
    expect(addToRoot({ not: a }, c)).toEqual({ all: [{ not: a }, c] });
  });

  it('gives each operator its value types, and changing the operator keeps what it can of the value', () => {
    expect(valueTypesFor('EQ')).toEqual(['string', 'number', 'boolean', 'list']);
    expect(valueTypesFor('GT')).toEqual(['number', 'date']);
    expect(valueTypesFor('IN')).toEqual(['list']);
    expect(valueTypesFor('EXISTS')).toEqual(['none']);
    expect(valueTypesFor('IS_BEFORE')).toEqual(['date']);
    expect(valueTypesFor('STARTS_WITH')).toEqual(['string']);
    expect(valueTypeOf('EQ', true)).toBe('boolean');
    expect(valueTypeOf('EQ', 5)).toBe('number');
    expect(valueTypeOf('EQ', ['x'])).toBe('list');
    expect(valueTypeOf('GT', '2024-01-01')).toBe('date');
    expect(valueTypeOf('GT', 3)).toBe('number');
    expect(valueTypeOf('GT', '')).toBe('number');
    expect(valueTypeOf('GT', 'now-1d')).toBe('date');
    expect(changeOperator({ path: 'data.x', op: 'EQ', value: '' }, 'GTE')).toEqual({
      path: 'data.x',
      op: 'GTE',
      value: 0,
    });
    expect(valueTypeOf('EXISTS', 3)).toBe('none');

    const eq = { path: 'data.amount', op: 'EQ', value: '100' };
    expect(changeOperator(eq, 'GT')).toEqual({ path: 'data.amount', op: 'GT', value: 100 });
    expect(changeOperator(eq, 'IN')).toEqual({ path: 'data.amount', op: 'IN', value: ['100'] });
    expect(changeOperator(eq, 'EXISTS')).toEqual({ path: 'data.amount', op: 'EXISTS' });
    expect(changeOperator({ path: 'data.d', op: 'EXISTS' }, 'IS_AFTER')).toEqual({
      path: 'data.d',
      op: 'IS_AFTER',
      value: 'now',
    });
    expect(changeOperator({ path: 'data.d', op: 'IS_AFTER', value: 'now-7d' }, 'LT')).toEqual({
      path: 'data.d',
      op: 'LT',
      value: 'now-7d',
    });
    expect(changeValueType(eq, 'number')).toEqual({ path: 'data.amount', op: 'EQ', value: 100 });
    expect(changeValueType(eq, 'boolean')).toEqual({ path: 'data.amount', op: 'EQ', value: false });
    expect(changeValueType({ path: 'data.x', op: 'EQ', value: 7 }, 'string')).toEqual({
      path: 'data.x',
      op: 'EQ',
      value: '7',
    });
    // every operator's default value is one the server accepts
    for (const op of OPERATORS) {
      const node = changeOperator({ path: 'data.x', op: 'EQ', value: '5' }, op);
      expect(() => validateCondition(node)).not.toThrow();
    }
  });

  it('reads typed values per type, and says why a text is not one', () => {
    expect(parseValue('number', ' 10.5 ')).toEqual({ ok: true, value: 10.5 });
    expect(parseValue('number', '1e3')).toEqual({ ok: true, value: 1000 });
    expect(parseValue('number', '12abc')).toEqual({ ok: false, error: 'Enter a number, e.g. 100 or 10.5.' });
    expect(parseValue('number', '')).toMatchObject({ ok: false });
    expect(parseValue('string', ' x ')).toEqual({ ok: true, value: ' x ' });
    expect(parseValue('boolean', 'true')).toEqual({ ok: true, value: true });
    expect(parseValue('list', 'DE, FR')).toEqual({ ok: true, value: ['DE', 'FR'] });
    expect(parseValue('list', '[1, "a"]')).toEqual({ ok: true, value: [1, 'a'] });
    expect(parseValue('list', '')).toEqual({ ok: true, value: [] });
    expect(parseValue('list', '[1,')).toMatchObject({ ok: false, error: expect.stringContaining('JSON array') });
    expect(parseValue('date', 'now-7d')).toEqual({ ok: true, value: 'now-7d' });
    expect(parseValue('date', '2024-05-01T12:00:00Z')).toEqual({ ok: true, value: '2024-05-01T12:00:00Z' });
    expect(parseValue('date', 'yesterday')).toMatchObject({ ok: false });
    expect(parseValue('none', 'x')).toEqual({ ok: true, value: undefined });
    expect(formatValue('list', ['DE', 'FR'])).toBe('DE, FR');
    expect(formatValue('list', [1, 'a'])).toBe('[1,"a"]');
    expect(formatValue('number', 100)).toBe('100');
    expect(formatValue('string', 'x')).toBe('x');
    // what is shown reads back as the same value
    for (const [type, value] of [
      ['list', ['a b', 'c']],
      ['list', ['a,b']],
      ['list', [1, true]],
      ['number', -2.5],
      ['date', 'now+2h'],
    ] as const)
      expect(parseValue(type, formatValue(type, value))).toEqual({ ok: true, value });
  });

  it('checks paths like the server and suggests the roots and the paths in use', () => {
    expect(pathProblem('data.amount')).toBeNull();
    expect(pathProblem('amount')).toBe('Start the path with data., profile., event.');
    expect(pathProblem('data.')).toMatch(/empty segment/);
    expect(pathProblem('digest.count', [...CONDITION_ROOTS, 'digest'])).toBeNull();
    expect(suggestPaths(tree)).toEqual(['data.', 'profile.', 'event.', 'data.amount', 'event.name', 'profile.plan']);
    expect(suggestPaths(null)).toEqual(['data.', 'profile.', 'event.']);
  });

  it("maps the server's pointers to positions and back", () => {
    expect(pointerToPosition('when')).toEqual([]);
    expect(pointerToPosition('when.all[1].not')).toEqual([1, 'not']);
    expect(pointerToPosition('when.all[2].any[0]')).toEqual([2, 0]);
    expect(pointerToPosition('steps[0].when.any[3]', 'steps[0].when')).toEqual([3]);
    expect(pointerToPosition('other.all[0]')).toBeNull();
    expect(pointerToPosition('when.all[x]')).toBeNull();
    expect(positionToPointer(tree, [2, 0])).toBe('when.any[0]'.replace('when', 'when.all[2]'));
    expect(positionToPointer(tree, [1, 'not'])).toBe('when.all[1].not');
    // the server's own error for a node points where the editor shows it
    const bad = replaceAt(tree, [2, 0], leaf('amount', 'EQ', 1));
    let pointer = '';
    try {
      validateCondition(bad);
    } catch (err) {
      pointer = (err as ConditionError).pointer;
    }
    expect(pointer).toBe('when.all[2].any[0]');
    expect(nodeAt(bad, pointerToPosition(pointer)!)).toEqual(leaf('amount', 'EQ', 1));
  });

  it('reads and writes the JSON view: empty is no condition, bad text is an error', () => {
    expect(parseConditionText('')).toEqual({ ok: true, value: null });
    expect(parseConditionText(toText(tree))).toEqual({ ok: true, value: tree });
    expect(parseConditionText('{"all": [')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^Not valid JSON/),
    });
    expect(parseConditionText('[1]')).toEqual({ ok: false, error: 'The condition must be a JSON object.' });
    expect(toText(null)).toBe('');
    expect(describeCondition(tree)).toBe(
      '(data.amount is greater than 100) and (not (profile.plan is one of ["free","trial"])) and ((event.name exists))',
    );
    expect(describeCondition(null)).toBe('always');
  });
});
