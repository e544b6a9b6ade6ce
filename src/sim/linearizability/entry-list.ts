import { assert } from '../../core/assert.ts';
import { isCompleted, type Operation } from './history.ts';

/** "No entry": the end of the list. */
export const END = -1;

/**
 * The call and return entries of one partition in time order, as a doubly
 * linked list over typed arrays (Wing & Gong 1993; Lowe 2017, §3). The search
 * "lifts" an operation out of the list when it linearizes it and "unlifts" it
 * when it backtracks; unlinking keeps a removed entry's own links, so undoing
 * removals in reverse order restores the list exactly (Knuth's dancing links).
 *
 * An unknown-outcome operation has a call entry and no return entry: nothing
 * forces it to take effect before any other operation returns.
 *
 * Entries are numbered 0..n-1 in time order; the head sentinel is number n.
 * At equal times calls sort before returns, which makes touching intervals
 * concurrent.
 */
export class EntryList {
  /** The operation (index into the partition) of each entry. */
  private readonly operationOf: Int32Array;
  /** For a call entry, its return entry or END; for a return entry, its call entry. */
  private readonly matchOf: Int32Array;
  private readonly callFlags: Uint8Array;
  private readonly nextOf: Int32Array;
  private readonly prevOf: Int32Array;
  private readonly head: number;

  constructor(operations: readonly Operation<unknown, unknown>[]) {
    const entries = sortedEntries(operations);
    const count = entries.length;
    this.head = count;
    this.operationOf = Int32Array.from(entries, (entry) => entry.operation);
    this.callFlags = Uint8Array.from(entries, (entry) => (entry.isCall ? 1 : 0));
    this.matchOf = new Int32Array(count).fill(END);
    const callEntryOf = new Map<number, number>();
    entries.forEach((entry, index) => {
      if (entry.isCall) {
        callEntryOf.set(entry.operation, index);
        return;
      }
      const call = callEntryOf.get(entry.operation);
      assert(call !== undefined, `the call of operation ${entry.operation} precedes its return`);
      this.matchOf[call] = index;
      this.matchOf[index] = call;
    });
    this.nextOf = Int32Array.from({ length: count + 1 }, (_, i) => (i + 1 < count ? i + 1 : END));
    this.prevOf = Int32Array.from({ length: count + 1 }, (_, i) => (i === 0 ? this.head : i - 1));
    this.nextOf[this.head] = count > 0 ? 0 : END;
  }

  first(): number {
    return this.link(this.nextOf, this.head);
  }

  next(entry: number): number {
    return this.link(this.nextOf, entry);
  }

  isCall(entry: number): boolean {
    return this.callFlags[entry] === 1;
  }

  operation(entry: number): number {
    const operation = this.operationOf[entry];
    assert(operation !== undefined, `entry ${entry} exists`);
    return operation;
  }

  /** Removes a call entry and its return entry (if any) from the list. */
  lift(call: number): void {
    assert(this.isCall(call), 'only a call entry is lifted');
    this.unlink(call);
    const ret = this.link(this.matchOf, call);
    if (ret !== END) this.unlink(ret);
  }

  /** Undoes the most recent lift, which must have been of `call`. */
  unlift(call: number): void {
    const ret = this.link(this.matchOf, call);
    if (ret !== END) this.relink(ret);
    this.relink(call);
  }

  private unlink(entry: number): void {
    const prev = this.link(this.prevOf, entry);
    const next = this.link(this.nextOf, entry);
    this.nextOf[prev] = next;
    if (next !== END) this.prevOf[next] = prev;
  }

  private relink(entry: number): void {
    const prev = this.link(this.prevOf, entry);
    const next = this.link(this.nextOf, entry);
    assert(this.nextOf[prev] === next, `entry ${entry} is relinked where it was unlinked`);
    this.nextOf[prev] = entry;
    if (next !== END) this.prevOf[next] = entry;
  }

  private link(links: Int32Array, entry: number): number {
    const target = links[entry];
    assert(target !== undefined, `entry ${entry} exists`);
    return target;
  }
}

interface Entry {
  readonly operation: number;
  readonly isCall: boolean;
  readonly time: number;
}

function sortedEntries(operations: readonly Operation<unknown, unknown>[]): Entry[] {
  const entries: Entry[] = [];
  operations.forEach((op, operation) => {
    entries.push({ operation, isCall: true, time: op.call });
    if (isCompleted(op)) entries.push({ operation, isCall: false, time: op.return });
  });
  // Calls before returns at equal times (closed intervals); then by operation for a stable order.
  return entries.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.operation - b.operation);
}
