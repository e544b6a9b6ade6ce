import { assert } from '../core/assert.ts';
import { entriesBytes, entryBytes } from './messages.ts';
import type { Entry } from './types.ts';

/**
 * The Raft log as one member sees it: entries after a compaction point,
 * plus the marks that say how far they are durable, committed and applied.
 *
 * Invariants: compactedIndex ≤ applied ≤ committed ≤ lastIndex, and
 * entries[i].index === compactedIndex + 1 + i. `stableIndex` (durable on
 * this member's disk) may lag lastIndex; entries after it are handed to the
 * driver in Ready to persist. Committed entries are never overwritten.
 */
export class RaftLog {
  private entries: Entry[];
  /** Index and term of the last entry folded into a snapshot (0, 0 for none). */
  private compactedIndex: number;
  private compactedTerm: number;
  stableIndex: number;
  committed: number;
  applied: number;

  constructor(init: { compactedIndex: number; compactedTerm: number; entries: readonly Entry[]; committed: number }) {
    this.compactedIndex = init.compactedIndex;
    this.compactedTerm = init.compactedTerm;
    this.entries = [...init.entries];
    this.entries.forEach((e, i) => assert(e.index === init.compactedIndex + 1 + i, 'restored entries are contiguous'));
    this.stableIndex = this.lastIndex();
    this.committed = Math.min(Math.max(init.committed, init.compactedIndex), this.lastIndex());
    this.applied = init.compactedIndex;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.at(-1)?.term ?? this.compactedTerm;
  }

  /** The term of the entry at `index`, or undefined if it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.compactedIndex - 1]?.term;
  }

  /** The entry at `index`, or undefined if compacted away or beyond the end. */
  entryAt(index: number): Entry | undefined {
    return index > this.compactedIndex ? this.entries[index - this.compactedIndex - 1] : undefined;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi) with at most maxBytes of payload (but at least one). Undefined if lo is compacted. */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] | undefined {
    if (lo <= this.compactedIndex) return undefined;
    assert(hi <= this.lastIndex() + 1, 'slice ends within the log');
    const all = this.entries.slice(lo - this.compactedIndex - 1, hi - this.compactedIndex - 1);
    if (maxBytes === Infinity) return all;
    let bytes = 0;
    let count = 0;
    for (const entry of all) {
      bytes += entryBytes(entry);
      if (count > 0 && bytes > maxBytes) break;
      count += 1;
    }
    return all.slice(0, count);
  }

  /** Append at the end (a leader's own proposals). */
  appendOwn(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, 'own entries extend the log by one');
      this.entries.push(entry);
    }
  }

  /**
   * A follower's half of AppendEntries (§5.3): if our log has (prevIndex,
   * prevTerm), drop any conflicting suffix, append what is new, and return
   * the index of the last entry the leader sent. Undefined: no match.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    for (const entry of entries) {
      const existing = this.term(entry.index);
      if (existing === entry.term) continue;
      if (existing === undefined && entry.index <= this.compactedIndex) continue;
      assert(entry.index > this.committed, `a committed entry (${entry.index}) is never overwritten`);
      this.truncateAfter(entry.index - 1);
      this.entries.push(...entries.slice(entries.indexOf(entry)));
      break;
    }
    return lastNew;
  }

  private truncateAfter(index: number): void {
    this.entries.length = index - this.compactedIndex;
    this.stableIndex = Math.min(this.stableIndex, index);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) assert(false, `commit ${index} is within the log (last ${this.lastIndex()})`);
    this.committed = index;
  }

  /**
   * For rejections: the largest index ≤ `index` whose term is ≤ `term`, with
   * that term. Lets the leader skip a whole conflicting term per round trip.
   */
  conflictHint(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    while (i > this.compactedIndex) {
      const t = this.term(i) ?? 0;
      if (t <= term) return { index: i, term: t };
      i -= 1;
    }
    return { index: this.compactedIndex, term: this.compactedTerm };
  }

  hasUnstable(): boolean {
    return this.stableIndex < this.lastIndex();
  }

  unstableEntries(): Entry[] {
    return this.entries.slice(this.stableIndex - this.compactedIndex);
  }

  /** Entries up to `index` (of `term`) are durable, unless overwritten since. */
  stableTo(index: number, term: number): void {
    if (this.term(index) === term && index > this.stableIndex) this.stableIndex = index;
  }

  /** Committed entries not yet handed to the state machine. */
  toApply(): Entry[] {
    return this.entries.slice(this.applied - this.compactedIndex, this.committed - this.compactedIndex);
  }

  appliedTo(index: number): void {
    assert(index <= this.committed, 'only committed entries are applied');
    if (index > this.applied) this.applied = index;
  }

  /** Drop entries up to `index`, which the state machine's snapshot covers. */
  compact(index: number): void {
    if (index <= this.compactedIndex) return;
    assert(index <= this.applied, `compaction (${index}) stays within the applied prefix (${this.applied})`);
    this.compactedTerm = this.term(index) ?? this.compactedTerm;
    this.entries = this.entries.slice(index - this.compactedIndex);
    this.compactedIndex = index;
  }

  /** Replace everything with a snapshot at (index, term); the state machine will be restored from it. */
  restore(index: number, term: number): void {
    this.entries = [];
    this.compactedIndex = index;
    this.compactedTerm = term;
    this.committed = index;
    this.applied = index;
    this.stableIndex = index;
  }

  /** Payload bytes of the entries after `index` (uncommitted proposals, for the leader's limit). */
  bytesAfter(index: number): number {
    return entriesBytes(this.entries.slice(Math.max(0, index - this.compactedIndex)));
  }
}
