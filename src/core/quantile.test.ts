import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nearestRank } from './quantile.ts';

describe('nearestRank', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the ⌈q·n⌉-th smallest value', () => {
    assert.equal(nearestRank(oneToHundred, 0.5), 50);
    assert.equal(nearestRank(oneToHundred, 0.99), 99);
    assert.equal(nearestRank(oneToHundred, 0.991), 100);
    assert.equal(nearestRank(oneToHundred, 1), 100);
  });

  it('is the maximum for p99 of fewer than 100 values, and the minimum at q = 0', () => {
    assert.equal(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99), 10);
    assert.equal(nearestRank(oneToHundred, 0), 1);
    assert.equal(nearestRank([7], 0.5), 7);
  });

  it('is NaN for an empty sample', () => {
    assert.ok(Number.isNaN(nearestRank([], 0.5)));
  });
});
