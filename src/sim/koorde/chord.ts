import type { FindSuccessorReply, FindSuccessorRequest } from '../../koorde/find-successor.ts';
import { distance, inHalfOpen, inOpen, wrap, type Id, type IdSpace } from '../../koorde/id-space.ts';
import { compareBig, type NodeRef } from '../../koorde/routing-table.ts';
import type { RingOracle } from './ring.ts';

/**
 * The Chord baseline (Stoica et al. 2001) the seed's authors compared
 * Koorde with: b fingers, finger j = successor(m + 2^j), plus a successor
 * list. Tables are built from global membership, so this is Chord at its
 * best: a stable ring with every finger right.
 */
export interface ChordTable {
  readonly self: NodeRef;
  readonly predecessor: NodeRef;
  readonly successors: readonly NodeRef[];
  readonly fingers: readonly NodeRef[];
}

export function chordTable(
  space: IdSpace,
  oracle: RingOracle,
  self: Id,
  successorListLength: number,
  ref: (id: Id) => NodeRef,
): ChordTable {
  const fingers = new Map<Id, NodeRef>();
  for (let j = 0; j < space.bits; j += 1) {
    const finger = oracle.successorOf(wrap(space, self + (1n << BigInt(j))));
    if (finger !== self) fingers.set(finger, ref(finger));
  }
  return {
    self: ref(self),
    predecessor: ref(oracle.predecessorOf(self)),
    successors: oracle.after(self, successorListLength).map(ref),
    fingers: [...fingers.values()],
  };
}

/** Chord's find-successor step, in the same reply shape as Koorde's. */
export function chordStep(
  space: IdSpace,
  table: ChordTable,
  request: FindSuccessorRequest,
  candidatesPerHop: number,
): FindSuccessorReply {
  const avoid = new Set(request.avoid ?? []);
  const successors = table.successors.filter((n) => !avoid.has(n.id));
  const successor = successors[0];
  if (successor === undefined) return { kind: 'owner', owners: [table.self], localSteps: 0 };
  if (inHalfOpen(space, request.key, table.predecessor.id, table.self.id)) {
    return { kind: 'owner', owners: [table.self, ...successors], predecessor: table.predecessor, localSteps: 0 };
  }
  if (inHalfOpen(space, request.key, table.self.id, successor.id)) {
    return { kind: 'owner', owners: successors, predecessor: table.self, localSteps: 0 };
  }
  const candidates = [...table.fingers, ...successors]
    .filter((n) => !avoid.has(n.id) && inOpen(space, n.id, table.self.id, request.key))
    .sort((a, b) => compareBig(distance(space, a.id, request.key), distance(space, b.id, request.key)))
    .filter((n, i, all) => i === 0 || all[i - 1]?.id !== n.id)
    .slice(0, candidatesPerHop);
  return { kind: 'next', candidates, localSteps: 0 };
}
