import type { Operation } from './history.ts';

/** The result of applying one operation to a state: illegal, or legal with the state it leads to. */
export type StepResult<S> = { readonly ok: true; readonly next: S } | { readonly ok: false };

/** A subset of a history that can be checked on its own, with a name for reports. */
export interface Partition<I, O> {
  readonly label: string;
  readonly operations: readonly Operation<I, O>[];
}

/**
 * A sequential specification of the object under test: the checker asks
 * whether some order of the history's operations, consistent with real time,
 * is a legal run of this model. States must be immutable: `step` returns a new
 * state and never changes the one it was given, because the search keeps old
 * states to backtrack to.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;

  /**
   * Whether `input` answering `output` is legal in `state`, and the state
   * after it. `output` is `undefined` for an operation with an unknown
   * outcome: return the state the operation would leave if it took effect
   * now, with `ok: false` only if it cannot take effect in `state` at all.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;

  /**
   * A canonical encoding of the state: equal strings exactly when the states
   * are equal. Lowe's memoization treats two states with the same hash as the
   * same state, so a lossy hash would make the checker unsound.
   */
  hash(state: S): string;

  /**
   * Splits a history into parts that are linearizable together exactly when
   * each is linearizable alone, e.g. one part per key of a key-value store
   * (Herlihy & Wing's locality; Horn & Kroening's P-compositionality). Without
   * it the whole history is one partition.
   */
  partition?(history: readonly Operation<I, O>[]): Partition<I, O>[];

  /** One operation for failure reports, e.g. `put("x", "1") → ok`. */
  describeOperation(input: I, output: O | undefined): string;

  /** One state for failure reports. */
  describeState(state: S): string;
}
