import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SortedMap } from './sorted-map.ts';

const byNumber = (a: number, b: number): number => a - b;

/** The naive reference: a sorted array of [key, value]. */
function reference(ops: readonly number[]): [number, string][] {
  const map = new Map<number, string>();
  for (const key of ops) if (!map.has(key)) map.set(key, `v${key}`);
  return [...map].sort((a, b) => a[0] - b[0]);
}

describe('SortedMap (B+ tree)', () => {
  it('agrees with a sorted array on inserts, lookups and ranges', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2_000 }), { maxLength: 1_500, size: 'max' }),
        fc.integer({ min: -10, max: 2_010 }),
        fc.option(fc.integer({ min: -10, max: 2_010 }), { nil: undefined }),
        (ops, lower, upper) => {
          const map = new SortedMap<number, string>(byNumber);
          for (const key of ops) map.getOrInsert(key, () => `v${key}`);
          const expected = reference(ops);
          assert.equal(map.size, expected.length);
          assert.deepEqual([...map.entries()], expected);
          for (const key of ops.slice(0, 20)) assert.equal(map.get(key), `v${key}`);
          assert.equal(map.get(-1), undefined);
          const inRange = expected.filter(([k]) => k >= lower && (upper === undefined || k < upper));
          assert.deepEqual([...map.range(lower, upper)], inRange);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('getOrInsert returns the existing value and creates nothing for a known key', () => {
    const map = new SortedMap<number, { n: number }>(byNumber);
    const first = map.getOrInsert(5, () => ({ n: 1 }));
    const again = map.getOrInsert(5, () => ({ n: 2 }));
    assert.equal(again, first);
    assert.equal(map.size, 1);
  });

  it('rebuilds from sorted entries in bulk, including empty', () => {
    const map = new SortedMap<number, number>(byNumber);
    const sorted = Array.from({ length: 10_000 }, (_, i) => [i * 2, i] as const);
    map.rebuild(sorted);
    assert.equal(map.size, 10_000);
    assert.equal(map.get(9_998), 4_999);
    assert.deepEqual(
      [...map.range(101, 107)],
      [
        [102, 51],
        [104, 52],
        [106, 53],
      ],
    );
    map.getOrInsert(1, () => -1);
    assert.deepEqual(
      [...map.range(0, 3)],
      [
        [0, 0],
        [1, -1],
        [2, 1],
      ],
    );
    map.rebuild([]);
    assert.equal(map.size, 0);
    assert.deepEqual([...map.entries()], []);
  });
});
