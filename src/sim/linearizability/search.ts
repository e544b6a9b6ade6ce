import { assert } from '../../core/assert.ts';
import { END, EntryList } from './entry-list.ts';
import { isCompleted, operationAt, type Operation } from './history.ts';
import { OperationSet, SeenConfigurations } from './memo.ts';
import type { Model } from './model.ts';

/**
 * What the search of one partition found. Operation numbers index the
 * partition's operations. `steps` counts visited list entries, the unit of
 * the step budget.
 */
export type SearchOutcome<S> =
  | { readonly kind: 'linearizable'; readonly order: readonly number[]; readonly steps: number }
  | {
      readonly kind: 'violation';
      /** A legal order placing as many completed operations as any the search built. */
      readonly longest: readonly number[];
      readonly stateAfterLongest: S;
      readonly steps: number;
    }
  | { readonly kind: 'exhausted'; readonly steps: number };

/**
 * Wing & Gong's depth-first search (1993) with Lowe's memoization (2017, §4),
 * iterative with an explicit stack so that long histories cannot overflow the
 * call stack. It walks the entry list from the head: at a call entry it tries
 * to linearize that operation next (legal in the model and a configuration
 * not seen before), and if so lifts it out of the list and restarts from the
 * head; at a return entry, some operation that must already have taken effect
 * could not be placed, so it backtracks. The history is linearizable once
 * every completed operation is placed; unknown-outcome operations left over
 * are the ones that never took effect.
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  stepsMax: number,
): SearchOutcome<S> {
  assert(Number.isInteger(stepsMax) && stepsMax >= 0, 'the step budget is a non-negative integer');
  return new Search(model, operations).run(stepsMax);
}

/** The state before the operation at `entry` was linearized, to restore on backtracking. */
interface Frame<S> {
  readonly entry: number;
  readonly state: S;
  readonly stateHash: string;
}

class Search<S, I, O> {
  private readonly list: EntryList;
  private readonly linearized: OperationSet;
  private readonly seen = new SeenConfigurations();
  private readonly stack: Frame<S>[] = [];
  private state: S;
  private stateHash: string;
  private readonly completedTotal: number;
  private completedLeft: number;
  private longest: readonly number[] = [];
  private longestCompleted = 0;
  private stateAfterLongest: S;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly operations: readonly Operation<I, O>[],
  ) {
    this.list = new EntryList(operations);
    this.linearized = new OperationSet(operations.length);
    this.state = model.init();
    this.stateHash = model.hash(this.state);
    this.stateAfterLongest = this.state;
    this.completedTotal = operations.filter(isCompleted).length;
    this.completedLeft = this.completedTotal;
  }

  run(stepsMax: number): SearchOutcome<S> {
    let entry = this.list.first();
    let steps = 0;
    while (this.completedLeft > 0) {
      if (steps === stepsMax) return { kind: 'exhausted', steps };
      steps += 1;
      assert(entry !== END, 'an unplaced completed operation keeps its return entry in the list');
      if (!this.list.isCall(entry)) {
        const frame = this.stack.pop();
        if (frame === undefined) {
          return { kind: 'violation', longest: this.longest, stateAfterLongest: this.stateAfterLongest, steps };
        }
        this.undo(frame);
        entry = this.list.next(frame.entry);
      } else if (this.tryLinearize(entry)) {
        entry = this.list.first();
      } else {
        entry = this.list.next(entry);
      }
    }
    return { kind: 'linearizable', order: this.stack.map((frame) => this.list.operation(frame.entry)), steps };
  }

  private tryLinearize(entry: number): boolean {
    const index = this.list.operation(entry);
    const operation = operationAt(this.operations, index);
    const result = this.model.step(this.state, operation.input, operation.output);
    if (!result.ok) return false;
    const nextHash = this.model.hash(result.next);
    // An unknown-outcome operation that leaves the state unchanged is
    // indistinguishable from one that never took effect, which is always
    // allowed: skipping it loses no linearization and prunes the search.
    if (!isCompleted(operation) && nextHash === this.stateHash) return false;
    this.linearized.add(index);
    if (!this.seen.visit(this.linearized, nextHash)) {
      this.linearized.remove(index);
      return false;
    }
    this.stack.push({ entry, state: this.state, stateHash: this.stateHash });
    this.state = result.next;
    this.stateHash = nextHash;
    this.list.lift(entry);
    if (isCompleted(operation)) this.completedLeft -= 1;
    this.recordIfLongest();
    return true;
  }

  /**
   * Keeps the prefix placing the most completed operations, for the report;
   * on a tie the one with fewer unknown-outcome operations, which explains
   * the failure without guessing at effects nobody saw.
   */
  private recordIfLongest(): void {
    const placed = this.completedTotal - this.completedLeft;
    const better =
      placed > this.longestCompleted || (placed === this.longestCompleted && this.stack.length < this.longest.length);
    if (!better) return;
    this.longest = this.stack.map((frame) => this.list.operation(frame.entry));
    this.longestCompleted = placed;
    this.stateAfterLongest = this.state;
  }

  private undo(frame: Frame<S>): void {
    const index = this.list.operation(frame.entry);
    this.list.unlift(frame.entry);
    this.linearized.remove(index);
    this.state = frame.state;
    this.stateHash = frame.stateHash;
    if (isCompleted(operationAt(this.operations, index))) this.completedLeft += 1;
  }
}
