import { assert } from '../core/assert.ts';
import { inHalfOpen, type Id, type IdSpace } from '../koorde/id-space.ts';
import type { NodeRef } from '../koorde/routing-table.ts';

export interface RouteCacheLimits {
  /** Arcs remembered; the oldest is forgotten first. */
  readonly maxArcs: number;
  /** How long a learned arc is trusted before it is looked up again. */
  readonly ttlMs: number;
}

/** Where an id's requests go: the owner first, then the nodes holding copies. */
export interface Route {
  readonly owners: readonly NodeRef[];
  /** True once the arc's owner failed: the head is a successor standing in, not a confirmed owner. */
  readonly standIn: boolean;
}

interface Arc {
  /** The owner's predecessor: the arc is (from, to]. */
  readonly from: Id;
  readonly to: Id;
  owners: readonly NodeRef[];
  standIn: boolean;
  readonly expiresAtMs: number;
}

/**
 * The entry node's routing cache: arcs of the circle learned from DHT
 * lookups, each (predecessor, owner] with the owner's successors. A hit
 * costs no lookup, so a request for a remote key costs one peer round trip.
 * Staleness is safe: an owner checks every key it is sent is its own
 * (NOT_OWNER sends the entry node back to the DHT), and the arc expires.
 */
export class RouteCache {
  private arcs: Arc[] = [];

  constructor(
    private readonly space: IdSpace,
    private readonly limits: RouteCacheLimits,
  ) {
    assert(limits.maxArcs >= 1, 'the route cache holds at least one arc');
  }

  find(id: Id, nowMs: number): Route | undefined {
    for (const arc of this.arcs) {
      if (arc.expiresAtMs > nowMs && inHalfOpen(this.space, id, arc.from, arc.to)) {
        return { owners: arc.owners, standIn: arc.standIn };
      }
    }
    return undefined;
  }

  /** Remember that `owners[0]` owns (predecessor, owners[0]]. */
  learn(predecessor: NodeRef, owners: readonly NodeRef[], nowMs: number): void {
    const owner = owners[0];
    if (owner === undefined || predecessor.id === owner.id) return;
    const arc: Arc = {
      from: predecessor.id,
      to: owner.id,
      owners,
      standIn: false,
      expiresAtMs: nowMs + this.limits.ttlMs,
    };
    // An arc overlapping the new one is older knowledge of the same stretch of the circle.
    this.arcs = this.arcs.filter(
      (a) =>
        a.expiresAtMs > nowMs &&
        !inHalfOpen(this.space, a.to, arc.from, arc.to) &&
        !inHalfOpen(this.space, arc.to, a.from, a.to),
    );
    this.arcs.unshift(arc);
    if (this.arcs.length > this.limits.maxArcs) this.arcs.pop();
  }

  /** A node failed: stop sending to it; arcs it headed fall to the next node, as a stand-in. */
  dropNode(address: string): void {
    for (const arc of this.arcs) {
      if (!arc.owners.some((n) => n.address === address)) continue;
      if (arc.owners[0]?.address === address) arc.standIn = true;
      arc.owners = arc.owners.filter((n) => n.address !== address);
    }
    this.arcs = this.arcs.filter((a) => a.owners.length > 0);
  }

  /** Forget the arc holding `id` (its owner said the key is not its own). */
  forget(id: Id): void {
    this.arcs = this.arcs.filter((a) => !inHalfOpen(this.space, id, a.from, a.to));
  }
}
