import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from './prng.ts';

describe('seeded prng', () => {
  it('replays the same sequence from the same seed', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    assert.deepEqual(seqA, seqB);
    assert.notDeepEqual(seqA, Array.from({ length: 100 }, createPrng(43).next));
  });

  it('int stays within its inclusive bounds and reaches both ends', () => {
    const prng = createPrng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i += 1) {
      const value = prng.int(3, 9);
      assert.ok(value >= 3 && value <= 9);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7, 8, 9]);
  });

  it('is roughly uniform (each of 10 buckets within 20% of its share)', () => {
    const prng = createPrng(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i += 1) buckets[Math.floor(prng.next() * 10)]! += 1;
    for (const count of buckets) assert.ok(Math.abs(count - 10_000) < 2_000, `bucket count ${count}`);
  });

  it('fork gives an independent stream that is itself reproducible', () => {
    const first = createPrng(5).fork();
    const second = createPrng(5).fork();
    assert.equal(first.next(), second.next());
  });
});
