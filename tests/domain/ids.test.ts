import { timeOrderedId } from '../../src/domain/ids';

describe('timeOrderedId (UUIDv7)', () => {
  it('is a version 7, variant 10 UUID carrying the time', () => {
    const now = Date.UTC(2026, 10, 29, 8, 0, 0, 123);
    const id = timeOrderedId(now + 10_000_000);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(now + 10_000_000);
  });

  it('sorts as text in creation order, also within one millisecond and when the clock stands still', () => {
    const fixed = Date.now() + 20_000_000;
    const ids = Array.from({ length: 5000 }, () => timeOrderedId(fixed));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5000);
    const later = timeOrderedId(fixed + 1);
    expect(later > ids[ids.length - 1]).toBe(true);
  });

  it('has 62 random bits that never repeat, across refills of its pool of random bytes (512 ids each)', () => {
    const ids = Array.from({ length: 3000 }, () => timeOrderedId());
    const tails = ids.map((id) => id.replace(/-/g, '').slice(16)); // the variant bits and the random bits
    expect(new Set(tails).size).toBe(ids.length);
    // every position of the random part takes many values (no byte stuck at one value)
    for (let hexDigit = 1; hexDigit < 16; hexDigit++) {
      expect(new Set(tails.map((t) => t[hexDigit])).size).toBeGreaterThan(8);
    }
  });
});
