import { assert } from '../../core/assert.ts';

/**
 * Lowe's memoization ("Testing for linearizability", 2017, §4): a search
 * configuration is the set of operations linearized so far plus the model
 * state they lead to, and the entries still to place are determined by that
 * set. If a configuration was reached before, everything after it was already
 * explored (or is being explored above it), so the search need not go there
 * again.
 *
 * Unknown-outcome operations get a stronger rule, subsumption: of two
 * configurations with the same completed operations and the same state, one
 * whose placed unknown-outcome operations are a subset of the other's has
 * every option the other has, since an unknown-outcome operation may also
 * never take effect. Once it was reached, the other is skipped. Without this,
 * each pending unknown-outcome operation could double the configurations
 * searched.
 *
 * Why skipping stays complete: suppose a linearization exists but the search
 * fails. Among the configurations it reached that can still be completed,
 * rank by most completed operations placed, then fewest steps left to
 * complete, then fewest unknown-outcome operations placed, and take the best.
 * Had it been skipped, the configuration subsuming it would rank better, so
 * it was explored; then the next configuration on its shortest way to
 * completion was reached and ranks better still. Contradiction.
 */

/** A 32-bit avalanche mix (splitmix32's finalizer), used as Zobrist keys for set members. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A set of operations of one partition, numbered 0..capacity-1, as a bitset
 * with a 64-bit Zobrist hash kept up to date on every change, so finding a
 * configuration's bucket costs O(1) rather than O(operations).
 */
export class OperationSet {
  private readonly words: Uint32Array;
  private hashLow = 0;
  private hashHigh = 0;

  constructor(readonly capacity: number) {
    this.words = new Uint32Array(Math.ceil(capacity / 32));
  }

  add(index: number): void {
    assert(!this.has(index), `operation ${index} is added to the linearized set once`);
    this.toggle(index);
  }

  remove(index: number): void {
    assert(this.has(index), `operation ${index} is in the linearized set when removed`);
    this.toggle(index);
  }

  has(index: number): boolean {
    assert(index >= 0 && index < this.capacity, `operation index ${index} is within the partition`);
    return ((this.words[index >>> 5] ?? 0) & (1 << (index & 31))) !== 0;
  }

  hash(): string {
    return `${this.hashLow.toString(36)}.${this.hashHigh.toString(36)}`;
  }

  equals(words: Uint32Array): boolean {
    return words.every((word, i) => word === this.words[i]);
  }

  /** Whether every member of `words` (a set of the same capacity) is in this set. */
  includes(words: Uint32Array): boolean {
    return words.every((word, i) => (word & ~(this.words[i] ?? 0)) === 0);
  }

  /** Whether every member of this set is in `words` (a set of the same capacity). */
  within(words: Uint32Array): boolean {
    return this.words.every((word, i) => (word & ~(words[i] ?? 0)) === 0);
  }

  copyWords(): Uint32Array {
    return this.words.slice();
  }

  private toggle(index: number): void {
    this.words[index >>> 5] = ((this.words[index >>> 5] ?? 0) ^ (1 << (index & 31))) >>> 0;
    this.hashLow = (this.hashLow ^ mix32(2 * index)) >>> 0;
    this.hashHigh = (this.hashHigh ^ mix32(2 * index + 1)) >>> 0;
  }
}

interface SeenCompleted {
  readonly completed: Uint32Array;
  /** The unknown-outcome sets reached with these completed operations and state; none contains another. */
  unknowns: Uint32Array[];
}

/** Configurations the search has reached; exact, with the Zobrist hash only choosing the bucket. */
export class SeenConfigurations {
  private readonly buckets = new Map<string, SeenCompleted[]>();

  /**
   * Marks the configuration as reached; false if it is subsumed by one
   * reached before: the same completed operations and state, with a subset of
   * its unknown-outcome operations.
   */
  visit(completed: OperationSet, unknown: OperationSet, stateHash: string): boolean {
    const key = `${completed.hash()}|${stateHash}`;
    const bucket = this.buckets.get(key) ?? [];
    if (bucket.length === 0) this.buckets.set(key, bucket);
    const seen = bucket.find((candidate) => completed.equals(candidate.completed));
    if (seen === undefined) {
      bucket.push({ completed: completed.copyWords(), unknowns: [unknown.copyWords()] });
      return true;
    }
    if (seen.unknowns.some((words) => unknown.includes(words))) return false;
    seen.unknowns = seen.unknowns.filter((words) => !unknown.within(words));
    seen.unknowns.push(unknown.copyWords());
    return true;
  }
}
