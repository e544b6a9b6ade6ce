import { assert } from '../../../core/assert.ts';
import { isCompleted, type Operation } from '../history.ts';
import type { Model } from '../model.ts';

/** The largest history the brute-force oracle accepts: its work grows as 2^n. */
export const BRUTE_FORCE_OPERATIONS_MAX = 30;

/**
 * Linearizability straight from the definition (Herlihy & Wing 1990): is
 * there a sequence holding every completed operation and any subset of the
 * unknown ones, in which an operation that returned before another was
 * invoked comes first, and which the model accepts from its initial state?
 * Tries every such sequence, remembering only which (placed set, state)
 * prefixes already failed. No partitions, no entry list: an oracle that
 * shares nothing with the checker but the model.
 */
export function bruteForceLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  assert(history.length <= BRUTE_FORCE_OPERATIONS_MAX, 'the brute-force oracle gets a small history');
  const completedMask = history.reduce((mask, op, i) => (isCompleted(op) ? mask | (1 << i) : mask), 0);
  const failed = new Set<string>();
  const extend = (placedMask: number, state: S): boolean => {
    if ((placedMask & completedMask) === completedMask) return true;
    const key = `${placedMask}|${model.hash(state)}`;
    if (failed.has(key)) return false;
    for (const [i, operation] of history.entries()) {
      if ((placedMask & (1 << i)) !== 0 || mustWait(history, placedMask, operation)) continue;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok && extend(placedMask | (1 << i), result.next)) return true;
    }
    failed.add(key);
    return false;
  };
  return extend(0, model.init());
}

/** Whether some unplaced completed operation returned before `operation` was invoked, and so must come first. */
function mustWait<I, O>(history: readonly Operation<I, O>[], placedMask: number, operation: Operation<I, O>): boolean {
  return history.some(
    (other, j) => (placedMask & (1 << j)) === 0 && isCompleted(other) && other.return < operation.call,
  );
}

/**
 * Why `order` is not a linearization of `operations`, or undefined if it is:
 * it must hold every completed operation once, only operations of the
 * history, respect real-time order, and be accepted by the model.
 */
export function linearizationFlaw<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  order: readonly Operation<I, O>[],
): string | undefined {
  const positions = new Map(order.map((operation, position) => [operation, position]));
  if (positions.size !== order.length) return 'an operation appears twice';
  if (order.some((operation) => !operations.includes(operation))) return 'an operation is not in the history';
  const missing = operations.find((operation) => isCompleted(operation) && !positions.has(operation));
  if (missing !== undefined) return `completed operation ${missing.id} is missing`;
  for (const [position, operation] of order.entries()) {
    const late = order
      .slice(0, position)
      .find((earlier) => operation.return !== undefined && operation.return < earlier.call);
    if (late !== undefined)
      return `operation ${late.id} is placed before ${operation.id}, which returned before it was invoked`;
  }
  let state = model.init();
  for (const operation of order) {
    const result = model.step(state, operation.input, operation.output);
    if (!result.ok) return `the model rejects operation ${operation.id} in ${model.describeState(state)}`;
    state = result.next;
  }
  return undefined;
}
