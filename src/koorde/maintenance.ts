import { deBruijnPoint, inOpen, type Id } from './id-space.ts';
import type { NodeRef, RoutingTable } from './routing-table.ts';

/**
 * Chord's ring maintenance, which Koorde reuses (§3.4), plus the de Bruijn
 * window of §4. Each function applies one received fact to the routing
 * table and returns what the driver must send next, as data.
 */

/** What get-state returns: one RPC gives stabilize both facts it needs. */
export interface NeighbourState {
  readonly predecessor?: NodeRef;
  readonly successors: readonly NodeRef[];
}

export function neighbourState(table: RoutingTable): NeighbourState {
  const pred = table.predecessor;
  return { ...(pred !== undefined ? { predecessor: pred } : {}), successors: table.successors };
}

/**
 * Stabilize: `from` (our successor when we asked) reported its state. Adopt
 * its predecessor when that sits between us, and rebuild the successor list
 * from its list. A successor without a predecessor is alive and kept (the
 * seed dropped it, and the ring flapped). Returns the successor to notify.
 */
export function applyStabilize(table: RoutingTable, from: NodeRef, state: NeighbourState): NodeRef | undefined {
  if (table.successor().id !== from.id) return undefined;
  const list: NodeRef[] = [from, ...state.successors];
  const p = state.predecessor;
  if (p !== undefined && p.id !== table.self.id && inOpen(table.space, p.id, table.self.id, from.id)) list.unshift(p);
  table.setSuccessors(list);
  return table.successor();
}

/**
 * Notify: `candidate` thinks it is our predecessor. Returns true when it is
 * the predecessor now (it became it, or already was: a node that restarted
 * with its id rejoins), which is when a join takes effect.
 */
export function applyNotify(table: RoutingTable, candidate: NodeRef): boolean {
  if (candidate.id === table.self.id) return false;
  if (table.isAlone()) table.setSuccessors([candidate]);
  const pred = table.predecessor;
  if (pred?.id === candidate.id) {
    table.predecessor = candidate;
    return true;
  }
  if (pred !== undefined && !inOpen(table.space, candidate.id, pred.id, table.self.id)) return false;
  table.predecessor = candidate;
  return true;
}

/**
 * A node that just joined tells its predecessor at once, so keys between the
 * two are routed to it without waiting for a stabilize round.
 */
export function applySuccessorHint(table: RoutingTable, candidate: NodeRef): void {
  if (candidate.id === table.self.id) return;
  if (table.isAlone() || inOpen(table.space, candidate.id, table.self.id, table.successor().id)) {
    table.setSuccessors([candidate, ...table.successors]);
  }
}

/**
 * A node did not answer. Forget it; when no successor is left, fall back on
 * the nearest other known node so that stabilize can repair the ring.
 */
export function applyFailure(table: RoutingTable, id: Id): void {
  table.forget(id);
  if (table.isAlone()) table.setSuccessors(table.knownNodes());
}

/** A neighbour leaves gracefully and hands over its own neighbours. */
export function applyLeave(table: RoutingTable, leaver: NodeRef, state: NeighbourState): void {
  const wasPredecessor = table.predecessor?.id === leaver.id;
  const wasSuccessor = table.successors.some((n) => n.id === leaver.id);
  table.forget(leaver.id);
  if (wasPredecessor && state.predecessor !== undefined && state.predecessor.id !== table.self.id) {
    table.predecessor = state.predecessor;
  }
  if (wasSuccessor) table.setSuccessors([...table.successors, ...state.successors]);
  if (table.isAlone()) table.setSuccessors(table.knownNodes());
}

/** The key fix-de-Bruijn looks up: k·m, whose predecessor anchors the window (§3.2, §4). */
export function windowKey(table: RoutingTable): Id {
  return deBruijnPoint(table.space, table.self.id);
}

/**
 * The lookup of k·m ended at its owners; the node before them is the
 * predecessor of k·m, and `backups` are the nodes before that one (§4.2).
 */
export function applyWindow(
  table: RoutingTable,
  owners: readonly NodeRef[],
  predecessor: NodeRef | undefined,
  backups: readonly NodeRef[] = [],
): void {
  table.setWindow(predecessor !== undefined ? [...backups, predecessor, ...owners] : owners);
}
