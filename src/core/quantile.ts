/**
 * The value at quantile q (0..1) of an ascending sample, by nearest rank:
 * the ⌈q·n⌉-th smallest, the least value that a fraction q of the sample is
 * at or below. So the p99 of 100 values is the 99th, and only with more than
 * 100 values is it ever below the maximum. NaN for an empty sample.
 */
export function nearestRank(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
