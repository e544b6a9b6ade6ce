import { assert } from '../../core/assert.ts';
import { assertWellFormed, operationAt, type Operation } from './history.ts';
import type { Model, Partition } from './model.ts';
import { explainViolation } from './report.ts';
import { searchLinearization } from './search.ts';

/**
 * The default step budget: the 2,000-operation test history needs about 4% of
 * it; the hardest 200-operation single-key histories measured (a buggy store,
 * 10% unknown outcomes, three distinct values) need it all. A step is one list
 * entry visited, a few microseconds; memory grows only with configurations
 * stored, at most one a step (the whole process stayed under 160 MB in those runs).
 */
export const DEFAULT_SEARCH_STEPS_MAX = 2_000_000;

export interface CheckOptions {
  /**
   * Most search steps (list entries visited) over all partitions before the
   * verdict becomes `unknown`. The bound is in steps, not time, so a verdict
   * replays exactly. @default DEFAULT_SEARCH_STEPS_MAX
   */
  readonly searchStepsMax?: number;
}

/**
 * A partition's operations in one legal order consistent with real time;
 * unknown-outcome operations that need not take effect are left out.
 */
export interface Linearization<I, O> {
  readonly partition: Partition<I, O>;
  readonly order: readonly Operation<I, O>[];
}

export interface Linearizable<I, O> {
  readonly verdict: 'linearizable';
  /** One per partition, smallest partition first. */
  readonly linearizations: readonly Linearization<I, O>[];
  readonly searchSteps: number;
}

export interface Violation<I, O> {
  readonly verdict: 'violation';
  /** The smallest partition that is not linearizable (by operation count). */
  readonly partition: Partition<I, O>;
  /** One of the longest legal orders the search found for that partition before every extension failed. */
  readonly longestPrefix: readonly Operation<I, O>[];
  /** The operations that could have come next after the prefix, and the end of the prefix around them. */
  readonly involved: readonly Operation<I, O>[];
  /** A readable account of the failure with a timeline per client (see docs/linearizability.md). */
  readonly explanation: string;
  readonly searchSteps: number;
}

export interface Undecided {
  readonly verdict: 'unknown';
  /** Labels of the partitions the budget did not decide. */
  readonly undecided: readonly string[];
  readonly searchSteps: number;
}

export type CheckResult<I, O> = Linearizable<I, O> | Violation<I, O> | Undecided;

/**
 * Decides whether `history` is linearizable with respect to `model`. Each
 * partition is checked on its own, smallest first, since a history is
 * linearizable exactly when every partition is (P-compositionality, Horn &
 * Kroening 2015); the first failing partition is therefore a smallest one.
 */
export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  assertWellFormed(history);
  const stepsMax = options.searchStepsMax ?? DEFAULT_SEARCH_STEPS_MAX;
  const partitions = partitionsOf(model, history);
  const linearizations: Linearization<I, O>[] = [];
  let searchSteps = 0;
  for (const [position, partition] of partitions.entries()) {
    const outcome = searchLinearization(model, partition.operations, stepsMax - searchSteps);
    searchSteps += outcome.steps;
    if (outcome.kind === 'exhausted') {
      const undecided = partitions.slice(position).map((rest) => rest.label);
      return { verdict: 'unknown', undecided, searchSteps };
    }
    if (outcome.kind === 'violation') {
      return { verdict: 'violation', partition, ...explainViolation(model, partition, outcome), searchSteps };
    }
    linearizations.push({ partition, order: outcome.order.map((index) => operationAt(partition.operations, index)) });
  }
  return { verdict: 'linearizable', linearizations, searchSteps };
}

function partitionsOf<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): Partition<I, O>[] {
  const partitions = model.partition?.(history) ?? [{ label: 'the whole history', operations: history }];
  const covered = partitions.reduce((count, partition) => count + partition.operations.length, 0);
  assert(covered === history.length, 'the partitions together hold every operation exactly once');
  return [...partitions].sort(
    (a, b) => a.operations.length - b.operations.length || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
}
