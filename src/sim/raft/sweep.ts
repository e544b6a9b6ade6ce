import { runSeed } from './run.ts';
import type { OptionOverrides } from './options.ts';
import type { Violation } from './checkers.ts';

/** The CI sweep's shorter runs: 10 simulated seconds of faults, then the liveness phase. */
export const ciOverrides: OptionOverrides = { safetyMs: 10_000 };

/** Run seeds [first, first + count) and return each violating seed with its violations. */
export function sweep(
  first: number,
  count: number,
  overrides: OptionOverrides = ciOverrides,
): { seed: number; violations: readonly Violation[] }[] {
  const failures: { seed: number; violations: readonly Violation[] }[] = [];
  for (let seed = first; seed < first + count; seed += 1) {
    const result = runSeed(seed, overrides);
    if (result.violations.length > 0) failures.push({ seed, violations: result.violations });
  }
  return failures;
}
