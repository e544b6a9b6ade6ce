import { WeftError } from '../../core/errors.ts';
import { inHalfOpen, type Id, type IdSpace } from '../../koorde/id-space.ts';
import type { Item } from './dht-wire.ts';

/** Bounds of one node's DHT items; see docs/LIMITS.md. */
export interface ItemLimits {
  readonly maxItems: number;
  readonly maxValueBytes: number;
}

/** Largest key accepted, in bytes (UTF-8). */
export const maxNameBytes = 1024;

/** How long a delete's tombstone is kept, so a stale replica cannot bring the key back. */
export const tombstoneTtlMs = 10 * 60 * 1000;

/**
 * The items this node holds, as owner or as replica, in memory. Writes keep
 * the highest version of each id, so replays, hand-offs and re-replication
 * in any order converge.
 */
export class ItemStore {
  private readonly items = new Map<Id, Item & { readonly storedAtMs: number }>();
  /** Grows with every change, so replication can tell that nothing changed. */
  changes = 0;

  constructor(
    private readonly space: IdSpace,
    private readonly limits: ItemLimits,
  ) {}

  get size(): number {
    return this.items.size;
  }

  get(id: Id): Item | undefined {
    return this.items.get(id);
  }

  /** Reject what no node should store; the message says which limit and what to do. */
  check(name: string, value: string): void {
    if (Buffer.byteLength(name) > maxNameBytes) {
      throw new WeftError('TOO_LARGE', `the key is over ${maxNameBytes} bytes; use a shorter key`);
    }
    if (Buffer.byteLength(value) > this.limits.maxValueBytes) {
      throw new WeftError(
        'TOO_LARGE',
        `the value is over ${this.limits.maxValueBytes} bytes (--dht-max-value-bytes); store a smaller value`,
      );
    }
  }

  /** Keep `item` unless a newer version is already here. Returns true when it was stored. */
  put(item: Item, nowMs: number): boolean {
    const existing = this.items.get(item.id);
    if (existing !== undefined && existing.version >= item.version) return false;
    if (existing === undefined && this.items.size >= this.limits.maxItems) {
      throw new WeftError(
        'STORE_FULL',
        `this node holds ${this.limits.maxItems} DHT items (--dht-max-items); add nodes or raise the limit`,
      );
    }
    this.items.set(item.id, { ...item, storedAtMs: nowMs });
    this.changes += 1;
    return true;
  }

  /** Items with ids in (from, to], at most `limit`, in no particular order. */
  range(from: Id, to: Id, limit: number): Item[] {
    const out: Item[] = [];
    for (const item of this.items.values()) {
      if (out.length >= limit) break;
      if (inHalfOpen(this.space, item.id, from, to)) out.push(item);
    }
    return out;
  }

  /** Every item, for a bounded walk by the caller. */
  values(): IterableIterator<Item> {
    return this.items.values();
  }

  /** Drop tombstones older than tombstoneTtlMs. */
  sweep(nowMs: number): number {
    let dropped = 0;
    for (const [id, item] of this.items) {
      if (item.deleted && nowMs - item.storedAtMs > tombstoneTtlMs) {
        this.items.delete(id);
        this.changes += 1;
        dropped += 1;
      }
    }
    return dropped;
  }
}
