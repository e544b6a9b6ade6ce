import { nearestRank } from '../../core/quantile.ts';

/** Summary figures of a list of numbers. */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The p-th percentile (nearest rank), p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return nearestRank(sorted, p / 100);
}
