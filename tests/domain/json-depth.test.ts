import { jsonDeeperThan } from '../../src/domain/json-input';

/** The definition, written the obvious way: `{}`/`[]` are 1 level, a scalar 0. */
function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depth));
}

/** A random JSON value up to `levels` deep, objects and arrays mixed, scalars of every kind. */
function randomValue(levels: number, rnd: () => number): unknown {
  const r = rnd();
  if (levels === 0 || r < 0.3) return [null, 1, 'x', true, 2.5][Math.floor(rnd() * 5)];
  const n = Math.floor(rnd() * 4);
  const kids = Array.from({ length: n }, () => randomValue(levels - 1, rnd));
  return r < 0.65 ? kids : Object.fromEntries(kids.map((k, i) => [`k${i}`, k]));
}

describe('jsonDeeperThan', () => {
  it('agrees with the definition on 2,000 random values, at every limit around their depth', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(8, rnd);
      const d = depth(value);
      for (const limit of [0, Math.max(0, d - 1), d, d + 1])
        expect([limit, jsonDeeperThan(value, limit)]).toEqual([limit, d > limit]);
    }
  });

  it('measures a value nested far deeper than the call stack allows, without overflowing', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = i % 2 ? [deep] : { a: deep };
    expect(jsonDeeperThan(deep, 64)).toBe(true);
    expect(jsonDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
  });

  it('reads an own "__proto__" key as data, as JSON.parse makes it', () => {
    const parsed = JSON.parse('{"__proto__": {"x": {"y": 1}}}');
    expect(jsonDeeperThan(parsed, 2)).toBe(true);
    expect(jsonDeeperThan(parsed, 3)).toBe(false);
  });
});
