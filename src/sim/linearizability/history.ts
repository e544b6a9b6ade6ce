import { assert } from '../../core/assert.ts';

/**
 * The history the linearizability checker judges: one record per operation a
 * client invoked, with logical times from the caller's clock (the simulator's
 * virtual clock, or a monotonic clock in multi-process tests).
 *
 * Intervals are closed: an operation that returns at t and one invoked at t
 * are concurrent, so either may take effect first. This is the conservative
 * reading of equal timestamps: it never invents a real-time order the clock
 * did not show.
 */

interface OperationBase<I> {
  /** Unique within a history. */
  readonly id: number;
  /** The client (Jepsen's "process") that invoked the operation; used only in reports. */
  readonly clientId: number;
  readonly input: I;
  /** When the client invoked the operation. */
  readonly call: number;
}

/**
 * An operation whose response the client received: it took effect exactly
 * once, at some instant in [call, return] (Herlihy & Wing 1990, §3).
 */
export interface CompletedOperation<I, O> extends OperationBase<I> {
  /** When the client received `output`; `call <= return`. */
  readonly return: number;
  readonly output: O;
}

/**
 * An operation whose client timed out or crashed before hearing back: it took
 * effect once at some instant after `call` (possibly long after), or never.
 * Knossos calls these `:info` operations.
 */
export interface UnknownOperation<I> extends OperationBase<I> {
  readonly return?: undefined;
  readonly output?: undefined;
}

export type Operation<I, O> = CompletedOperation<I, O> | UnknownOperation<I>;

export function isCompleted<I, O>(operation: Operation<I, O>): operation is CompletedOperation<I, O> {
  return operation.return !== undefined;
}

/** Asserts what the checker relies on: unique ids, finite times, and `call <= return`. */
export function assertWellFormed<I, O>(history: readonly Operation<I, O>[]): void {
  const ids = new Set<number>();
  for (const operation of history) {
    assert(!ids.has(operation.id), `operation id ${operation.id} is unique in the history`);
    ids.add(operation.id);
    assert(Number.isFinite(operation.call), `operation ${operation.id} has a finite call time`);
    if (!isCompleted(operation)) continue;
    assert(Number.isFinite(operation.return), `operation ${operation.id} has a finite return time`);
    assert(operation.call <= operation.return, `operation ${operation.id} returns no earlier than its call`);
  }
}

/** The operation at `index` of a partition's operation list; asserts that it exists. */
export function operationAt<I, O>(operations: readonly Operation<I, O>[], index: number): Operation<I, O> {
  const operation = operations[index];
  assert(operation !== undefined, `operation index ${index} is within the partition`);
  return operation;
}
