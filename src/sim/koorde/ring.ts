import {
  compareBig,
  RoutingTable,
  windowBackups,
  type NodeRef,
  type RoutingLimits,
} from '../../koorde/routing-table.ts';
import { windowKey } from '../../koorde/maintenance.ts';
import type { Id, IdSpace } from '../../koorde/id-space.ts';

/**
 * The true ring from global membership: the oracle every lookup is checked
 * against, and a builder of correct routing tables for a stable start.
 */
export class RingOracle {
  private sorted: Id[] = [];

  constructor(ids: Iterable<Id> = []) {
    this.sorted = [...ids].sort(compareBig);
  }

  get size(): number {
    return this.sorted.length;
  }

  ids(): readonly Id[] {
    return this.sorted;
  }

  has(id: Id): boolean {
    const i = this.lowerBound(id);
    return this.sorted[i] === id;
  }

  add(id: Id): void {
    const i = this.lowerBound(id);
    if (this.sorted[i] !== id) this.sorted.splice(i, 0, id);
  }

  remove(id: Id): void {
    const i = this.lowerBound(id);
    if (this.sorted[i] === id) this.sorted.splice(i, 1);
  }

  /** The first member at or after `key`, wrapping: the key's owner. */
  successorOf(key: Id): Id {
    const first = this.sorted[0];
    if (first === undefined) throw new Error('the ring has no members');
    return this.sorted[this.lowerBound(key)] ?? first;
  }

  /** The `count` members after `id` (not including it), in ring order. */
  after(id: Id, count: number): Id[] {
    const n = this.sorted.length;
    const start = this.lowerBound(id + 1n);
    const out: Id[] = [];
    for (let j = 0; j < Math.min(count, n - (this.has(id) ? 1 : 0)); j += 1) {
      const next = this.sorted[(start + j) % n];
      if (next !== undefined) out.push(next);
    }
    return out;
  }

  /** The last member strictly before `key`, wrapping. */
  predecessorOf(key: Id): Id {
    const n = this.sorted.length;
    const i = this.lowerBound(key);
    const pred = this.sorted[(i - 1 + n) % n];
    if (pred === undefined) throw new Error('the ring has no members');
    return pred;
  }

  private lowerBound(id: Id): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sorted[mid] as Id) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A routing table with every pointer right, as stabilization converges to (Koorde §3.4, §4.2). */
export function stableTable(
  space: IdSpace,
  oracle: RingOracle,
  self: Id,
  ref: (id: Id) => NodeRef,
  limits?: RoutingLimits,
): RoutingTable {
  const table = new RoutingTable(space, ref(self), limits);
  if (oracle.size === 1) return table;
  table.predecessor = ref(oracle.predecessorOf(self));
  table.setSuccessors(oracle.after(self, table.limits.successorListLength).map(ref));
  const anchor = oracle.predecessorOf(windowKey(table));
  const backups: Id[] = [];
  for (let p = anchor; backups.length < windowBackups; backups.unshift(p)) p = oracle.predecessorOf(p);
  table.setWindow([...backups, anchor, ...oracle.after(anchor, space.degree)].map(ref));
  return table;
}
