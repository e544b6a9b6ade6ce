// The bench's latency histogram: quantiles within its stated 1/64 of the
// exact ones, an exact maximum, and merging that equals recording together.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../../core/prng.ts';
import { LatencyHistogram } from './latency-histogram.ts';

function exactQuantileMs(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! / 1000;
}

describe('LatencyHistogram', () => {
  it('quantiles are within 1/64 above the exact ones over six decades', () => {
    const prng = createPrng(7);
    const values = Array.from({ length: 50_000 }, () => Math.floor(10 ** (prng.next() * 6)));
    const histogram = new LatencyHistogram();
    for (const value of values) histogram.record(value);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
      const exact = exactQuantileMs(sorted, q);
      const estimate = histogram.quantileMs(q);
      assert.ok(estimate >= exact && estimate <= exact * (1 + 1 / 64) + 0.001, `q=${q}: ${estimate} vs ${exact}`);
    }
    assert.equal(histogram.maxMs(), sorted.at(-1)! / 1000);
    assert.equal(histogram.count, values.length);
  });

  it('records nanoseconds from hrtime differences', () => {
    const histogram = new LatencyHistogram();
    histogram.recordNanos(2_500_000n);
    assert.equal(histogram.quantileMs(0.5), 2.5);
  });

  it('merging two histograms equals recording everything in one', () => {
    const [a, b, both] = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let v = 0; v < 5000; v += 7) {
      (v % 2 === 0 ? a : b).record(v * 13);
      both.record(v * 13);
    }
    a.add(b);
    for (const q of [0.5, 0.99]) assert.equal(a.quantileMs(q), both.quantileMs(q));
    assert.deepEqual([a.count, a.maxMs()], [both.count, both.maxMs()]);
  });

  it('an empty histogram reads 0; values beyond the limit keep an exact maximum', () => {
    const histogram = new LatencyHistogram(1000);
    assert.equal(histogram.quantileMs(0.99), 0);
    histogram.record(5_000_000);
    assert.equal(histogram.maxMs(), 5000);
    assert.equal(histogram.quantileMs(0.5), 5000);
  });
});
