import { assert } from '../core/assert.ts';
import { distance, inHalfOpen, inOpen, type Id, type IdSpace } from './id-space.ts';

/** A member of the ring: its id and the opaque address the driver reaches it at. */
export interface NodeRef {
  readonly id: Id;
  readonly address: string;
}

/** Sizes of the routing state; see docs/LIMITS.md. */
export interface RoutingLimits {
  /** r: successors kept (Chord's successor list, which Koorde reuses, §3.4). @default 8 */
  readonly successorListLength: number;
  /** Next-hop candidates a node offers per forward: the best and its backups. @default 4 */
  readonly candidatesPerHop: number;
}

export const defaultRoutingLimits: RoutingLimits = { successorListLength: 8, candidatesPerHop: 4 };

/**
 * Window entries kept before the predecessor of k·m (Koorde §4.2 anchors
 * the window at the predecessor of k·m − x for this reason): when the
 * predecessor of a de Bruijn target has died, an entry before it still
 * precedes the target, so the hop has a backup instead of a restart.
 */
export const windowBackups = 1;

/** The window: the backups, the predecessor of k·m, and k nodes after it. */
export function windowCapacity(space: IdSpace): number {
  return windowBackups + 1 + space.degree;
}

/**
 * One node's view of the ring (Koorde §3.2, §4): predecessor, the successor
 * list (successors[0] is the successor), and the de Bruijn window: the
 * predecessor of k·m and the k−1 nodes after it. An empty successor list
 * means the node is alone and owns the whole circle.
 *
 * Invariants: self appears in neither list; no id appears twice in a list;
 * successors are in ring order from self.
 */
export class RoutingTable {
  predecessor: NodeRef | undefined;
  private successorList: NodeRef[] = [];
  private windowList: NodeRef[] = [];

  constructor(
    readonly space: IdSpace,
    readonly self: NodeRef,
    readonly limits: RoutingLimits = defaultRoutingLimits,
  ) {
    assert(limits.successorListLength >= 1, 'successor list holds at least one node');
    assert(limits.candidatesPerHop >= 1, 'at least one candidate per hop');
  }

  get successors(): readonly NodeRef[] {
    return this.successorList;
  }

  get window(): readonly NodeRef[] {
    return this.windowList;
  }

  /** The successor, or self when alone. */
  successor(): NodeRef {
    return this.successorList[0] ?? this.self;
  }

  isAlone(): boolean {
    return this.successorList.length === 0;
  }

  /** Replace the successor list with `nodes` in ring order from self, deduplicated and cut to r. */
  setSuccessors(nodes: readonly NodeRef[]): void {
    const sorted = this.distinct(nodes).sort((a, b) => this.compareFromSelf(a.id, b.id));
    this.successorList = sorted.slice(0, this.limits.successorListLength);
  }

  /**
   * The de Bruijn window (§3.2, §4): nodes in ring order around k·m, from
   * `windowBackups` nodes before its predecessor, at most windowCapacity.
   * Consecutive entries are ring neighbours (see `ownerFromRuns`), so the
   * window starts after self, or stops where it would reach self.
   */
  setWindow(nodes: readonly NodeRef[]): void {
    const selfAt = nodes.findIndex((n) => n.id === this.self.id);
    const run = selfAt < 0 ? nodes : selfAt === 0 ? nodes.slice(1) : nodes.slice(0, selfAt);
    this.windowList = this.distinct(run).slice(0, windowCapacity(this.space));
  }

  /**
   * The key's owner, if this node knows two ring neighbours around it: in
   * [predecessor, self, successors...] or in the window, each consecutive
   * pair (a, b) means b owns (a, b]. Returns the owner and the nodes after it,
   * and the node before it.
   */
  ownerFromRuns(key: Id): { owners: NodeRef[]; predecessor: NodeRef } | undefined {
    const head = this.predecessor !== undefined ? [this.predecessor, this.self] : [this.self];
    for (const run of [[...head, ...this.successorList], this.windowList]) {
      for (let j = 0; j + 1 < run.length; j += 1) {
        const a = run[j] as NodeRef;
        const b = run[j + 1] as NodeRef;
        if (inHalfOpen(this.space, key, a.id, b.id)) return { owners: run.slice(j + 1), predecessor: a };
      }
    }
    return undefined;
  }

  /** Forget a node everywhere (it failed or left). */
  forget(id: Id): void {
    if (this.predecessor?.id === id) this.predecessor = undefined;
    this.successorList = this.successorList.filter((n) => n.id !== id);
    this.windowList = this.windowList.filter((n) => n.id !== id);
  }

  /**
   * The table as it would be without the nodes in `avoid` (a lookup found
   * them dead, Koorde §4.2): what a node routes by when asked to avoid them.
   */
  without(avoid: ReadonlySet<Id>): RoutingTable {
    if (avoid.size === 0) return this;
    const view = new RoutingTable(this.space, this.self, this.limits);
    const alive = (n: NodeRef): boolean => !avoid.has(n.id);
    view.predecessor = this.predecessor !== undefined && alive(this.predecessor) ? this.predecessor : undefined;
    view.successorList = this.successorList.filter(alive);
    view.windowList = this.windowList.filter(alive);
    if (view.isAlone() && !this.isAlone()) view.setSuccessors(view.knownNodes());
    return view;
  }

  /** Every other node this one knows, each once. */
  knownNodes(): NodeRef[] {
    const all = [...this.successorList, ...this.windowList];
    if (this.predecessor !== undefined) all.push(this.predecessor);
    return this.distinct(all);
  }

  /**
   * Known nodes that precede `target` (strictly between self and target),
   * closest to the target first, at most candidatesPerHop. Forwarding to any
   * of them is safe: from a node before the target, following successors
   * always reaches the target's predecessor, so backups cost hops, never
   * correctness.
   */
  closestPreceding(target: Id): NodeRef[] {
    return this.knownNodes()
      .filter((n) => inOpen(this.space, n.id, this.self.id, target))
      .sort((a, b) => compareBig(distance(this.space, a.id, target), distance(this.space, b.id, target)))
      .slice(0, this.limits.candidatesPerHop);
  }

  private distinct(nodes: readonly NodeRef[]): NodeRef[] {
    const seen = new Set<Id>([this.self.id]);
    const out: NodeRef[] = [];
    for (const node of nodes) {
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      out.push(node);
    }
    return out;
  }

  private compareFromSelf(a: Id, b: Id): number {
    return compareBig(distance(this.space, this.self.id, a), distance(this.space, this.self.id, b));
  }
}

export function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
