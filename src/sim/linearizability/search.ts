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
 *
 * Before backtracking at a return entry, the walk makes a second pass over
 * the same entries for unknown-outcome operations: trying "never took
 * effect" first makes the later configurations that include them subsumed by
 * the ones without (see memo.ts), instead of the other way round.
 */
export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  stepsMax: number,
): SearchOutcome<S> {
  assert(Number.isInteger(stepsMax) && stepsMax >= 0, 'the step budget is a non-negative integer');
  return new Search(model, operations).run(stepsMax);
}

/** Which operations a walk over the list tries to place: completed ones, then unknown-outcome ones. */
type Pass = 'completed' | 'unknown';

/** The search just before the operation at `entry` was linearized, to restore on backtracking. */
interface Frame<S> {
  readonly entry: number;
  readonly state: S;
  readonly stateHash: string;
  /** Whether the walk had passed an unknown-outcome operation before `entry`, so it owes a second pass. */
  readonly unknownSkipped: boolean;
}

class Search<S, I, O> {
  private readonly list: EntryList;
  /** Each operation's position in `placedCompleted` or `placedUnknown`. */
  private readonly slots: Int32Array;
  private readonly placedCompleted: OperationSet;
  private readonly placedUnknown: OperationSet;
  private readonly seen = new SeenConfigurations();
  private readonly stack: Frame<S>[] = [];
  private state: S;
  private stateHash: string;
  private completedLeft: number;
  private longest: readonly number[] = [];
  private longestCompleted = 0;
  private stateAfterLongest: S;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly operations: readonly Operation<I, O>[],
  ) {
    this.list = new EntryList(operations);
    let completed = 0;
    this.slots = Int32Array.from(operations, (operation, index) =>
      isCompleted(operation) ? completed++ : index - completed,
    );
    this.placedCompleted = new OperationSet(completed);
    this.placedUnknown = new OperationSet(operations.length - completed);
    this.completedLeft = completed;
    this.state = model.init();
    this.stateHash = model.hash(this.state);
    this.stateAfterLongest = this.state;
    this.seen.visit(this.placedCompleted, this.placedUnknown, this.stateHash);
  }

  run(stepsMax: number): SearchOutcome<S> {
    let entry = this.list.first();
    let pass: Pass = 'completed';
    let unknownSkipped = false;
    let steps = 0;
    while (this.completedLeft > 0) {
      if (steps === stepsMax) return { kind: 'exhausted', steps };
      steps += 1;
      assert(entry !== END, 'an unplaced completed operation keeps its return entry in the list');
      if (this.list.isCall(entry)) {
        const kind = this.passOf(entry);
        if (kind === pass && this.tryLinearize(entry, unknownSkipped)) {
          entry = this.list.first();
          pass = 'completed';
          unknownSkipped = false;
        } else {
          unknownSkipped ||= kind === 'unknown';
          entry = this.list.next(entry);
        }
      } else if (pass === 'completed' && unknownSkipped) {
        entry = this.list.first();
        pass = 'unknown';
      } else {
        const frame = this.stack.pop();
        if (frame === undefined) {
          return { kind: 'violation', longest: this.longest, stateAfterLongest: this.stateAfterLongest, steps };
        }
        this.undo(frame);
        entry = this.list.next(frame.entry);
        pass = this.passOf(frame.entry);
        unknownSkipped = frame.unknownSkipped;
      }
    }
    return { kind: 'linearizable', order: this.stack.map((frame) => this.list.operation(frame.entry)), steps };
  }

  private passOf(entry: number): Pass {
    return isCompleted(operationAt(this.operations, this.list.operation(entry))) ? 'completed' : 'unknown';
  }

  private tryLinearize(entry: number, unknownSkipped: boolean): boolean {
    const index = this.list.operation(entry);
    const operation = operationAt(this.operations, index);
    const result = this.model.step(this.state, operation.input, operation.output);
    if (!result.ok) return false;
    const nextHash = this.model.hash(result.next);
    if (!isCompleted(operation) && this.overwritesUnknown(operation, nextHash)) return false;
    this.setPlaced(index, true);
    if (!this.seen.visit(this.placedCompleted, this.placedUnknown, nextHash)) {
      this.setPlaced(index, false);
      return false;
    }
    this.stack.push({ entry, state: this.state, stateHash: this.stateHash, unknownSkipped });
    this.state = result.next;
    this.stateHash = nextHash;
    this.list.lift(entry);
    this.recordIfLongest();
    return true;
  }

  /**
   * Whether `operation` (unknown outcome) leaves the same state as it would
   * have without the unknown-outcome operation placed just before it. The
   * configuration before that one was in its unknown-outcome pass, which
   * tries `operation` too and reaches the same completed operations and state
   * with fewer unknown-outcome operations placed: a configuration that
   * subsumes this one (see memo.ts). Without this rule a run of k pending
   * unknown writes is searched in all its 2^k subsets at every point.
   */
  private overwritesUnknown(operation: Operation<I, O>, nextHash: string): boolean {
    const top = this.stack.at(-1);
    if (top === undefined || this.passOf(top.entry) === 'completed') return false;
    const alone = this.model.step(top.state, operation.input, undefined);
    return alone.ok && this.model.hash(alone.next) === nextHash;
  }

  private undo(frame: Frame<S>): void {
    this.list.unlift(frame.entry);
    this.setPlaced(this.list.operation(frame.entry), false);
    this.state = frame.state;
    this.stateHash = frame.stateHash;
  }

  private setPlaced(index: number, placed: boolean): void {
    const completed = isCompleted(operationAt(this.operations, index));
    const set = completed ? this.placedCompleted : this.placedUnknown;
    const slot = this.slots[index] ?? -1;
    if (placed) set.add(slot);
    else set.remove(slot);
    if (completed) this.completedLeft += placed ? -1 : 1;
  }

  /**
   * Keeps the prefix placing the most completed operations, for the report;
   * on a tie the one with fewer unknown-outcome operations, which explains
   * the failure without guessing at effects nobody saw.
   */
  private recordIfLongest(): void {
    const placed = this.placedCompleted.capacity - this.completedLeft;
    const longer = placed > this.longestCompleted;
    if (!longer && !(placed === this.longestCompleted && this.stack.length < this.longest.length)) return;
    this.longest = this.stack.map((frame) => this.list.operation(frame.entry));
    this.longestCompleted = placed;
    this.stateAfterLongest = this.state;
  }
}
