import { assert } from '../core/assert.ts';
import { packCopies } from '../core/binary.ts';
import { emptyHardState, type Entry, type HardState, type SnapshotMeta } from '../raft/types.ts';
import type { LogState, LogUpdate } from './log-storage.ts';

/**
 * The log's logical content, kept by applying updates in order: the
 * in-memory log, the WAL's view of itself, and WAL recovery all use it, so
 * "what replay keeps" and "what the live log holds" are one definition.
 *
 * The last-written version of each index wins: entries at index i replace
 * everything from i on (how a conflicting suffix is overwritten). During
 * replay the entries may have gaps below a later snapshot marker; `gap()`
 * says whether any remain above the snapshot at the end.
 */
export class LogMirror {
  private hardStateValue: HardState = emptyHardState;
  private snapshotValue: SnapshotMeta | undefined;
  private entriesValue: Entry[] = [];

  get hardState(): HardState {
    return this.hardStateValue;
  }

  get snapshot(): SnapshotMeta | undefined {
    return this.snapshotValue;
  }

  lastIndex(): number {
    return this.entriesValue.at(-1)?.index ?? this.snapshotIndex();
  }

  snapshotIndex(): number {
    return this.snapshotValue?.index ?? 0;
  }

  /** Checks an update against the log's invariants before it is written (the caller's bug if not). */
  validate(update: LogUpdate, lastIndex = this.lastIndex()): void {
    const first = update.entries[0];
    if (first !== undefined) {
      // The texts are built only on failure (this runs for every append).
      if (first.index <= this.snapshotIndex()) assert(false, `append at ${first.index} is above the snapshot`);
      if (first.index > lastIndex + 1) assert(false, `append at ${first.index} leaves no gap after ${lastIndex}`);
    }
    for (let i = 1; i < update.entries.length; i += 1) {
      const [previous, entry] = [update.entries[i - 1]!, update.entries[i]!];
      assert(entry.index === previous.index + 1, 'appended entries are contiguous');
      assert(entry.term >= previous.term, 'appended entries have non-decreasing terms');
    }
  }

  applyEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const log = this.entriesValue;
    while (log.length > 0 && log.at(-1)!.index >= first.index) log.pop();
    for (const entry of entries) if (entry.index > this.snapshotIndex()) log.push(entry);
  }

  /**
   * Gives the entries whose data are views of `buffer` (a segment replay
   * read) copies of their own, sharing buffers of 16 KiB (packCopies), so
   * the segment can go. A copy per entry would be an ArrayBuffer per entry,
   * up to `--snapshot-entries` of them after a restart, which the garbage
   * collector visits at every collection. The entries the segment's replay
   * appended are the log's tail (a truncation only cuts a tail), so only
   * they are looked at, not the whole log again for every segment.
   */
  ownData(buffer: ArrayBufferLike): void {
    const log = this.entriesValue;
    let first = log.length;
    while (first > 0 && log[first - 1]!.data.buffer === buffer) first -= 1;
    packCopies(log.slice(first).map((entry) => entry.data)).forEach((data, n) => {
      log[first + n] = { ...log[first + n]!, data };
    });
  }

  applyHardState(state: HardState): void {
    this.hardStateValue = state;
  }

  /**
   * A marker not newer than the current snapshot changes nothing: replay
   * meets each marker again in the headers of later segments, by then with
   * the entries after it already appended.
   */
  applySnapshot(meta: SnapshotMeta): void {
    if (meta.index <= this.snapshotIndex()) return;
    const log = this.entriesValue;
    const at = log.findIndex((entry) => entry.index === meta.index);
    const matches = at >= 0 && log[at]!.term === meta.term;
    this.entriesValue = matches ? log.slice(at + 1) : [];
    this.snapshotValue = meta;
  }

  /** The first index missing above the snapshot, if the entries are not contiguous. */
  gap(): { readonly expected: number; readonly found: number } | undefined {
    let expected = this.snapshotIndex() + 1;
    for (const entry of this.entriesValue) {
      if (entry.index !== expected) return { expected, found: entry.index };
      expected += 1;
    }
    return undefined;
  }

  state(): LogState {
    return { hardState: this.hardStateValue, snapshot: this.snapshotValue, entries: [...this.entriesValue] };
  }
}
