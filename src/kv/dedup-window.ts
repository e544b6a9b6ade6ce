/** What the store remembers of an applied request id. */
export interface Remembered {
  /** Its position in the sequence of remembered ids. */
  readonly seq: number;
  readonly revision: number;
  /** The seq that keys its backend record: the first id of the batch it was applied in (see MvccStore). */
  readonly block: number;
}

/**
 * The request ids applied last, at most `capacity`, oldest first out.
 * The order is kept in an array beside the map: taking the oldest from a
 * Map by `entries().next()` walks over every entry deleted since V8 last
 * rebuilt the table (thousands, for a window of 10,000), and that made the
 * window the most expensive function a node ran per write.
 */
export class DedupWindow {
  private readonly byId = new Map<number, Remembered>();
  private order: number[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.byId.size;
  }

  get(requestId: number): Remembered | undefined {
    return this.byId.get(requestId);
  }

  /** The id that falls out next. */
  oldest(): Remembered | undefined {
    const id = this.order[this.head];
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Remembers `requestId` (not in the window); returns the one that fell out to make room, if any. */
  add(requestId: number, remembered: Remembered): Remembered | undefined {
    this.byId.set(requestId, remembered);
    this.order.push(requestId);
    if (this.byId.size <= this.capacity) return undefined;
    const oldestId = this.order[this.head]!;
    this.head += 1;
    // Drop the consumed front now and then, so the array stays within twice the window.
    if (this.head > this.capacity) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    const oldest = this.byId.get(oldestId)!;
    this.byId.delete(oldestId);
    return oldest;
  }
}
