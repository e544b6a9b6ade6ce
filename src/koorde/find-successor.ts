import { assert } from '../core/assert.ts';
import { deBruijnStep, distance, inHalfOpen, inOpen, topBits, wrap, type Id, type IdSpace } from './id-space.ts';
import type { NodeRef, RoutingTable } from './routing-table.ts';

/**
 * Where a lookup stands on the de Bruijn graph (Koorde §3.3): the imaginary
 * node i it has reached, the key with the digits already used shifted out,
 * and how many de Bruijn steps remain until i equals the key.
 */
export interface Walk {
  readonly imaginary: Id;
  readonly shiftedKey: Id;
  readonly stepsLeft: number;
}

/** One find-successor request. Without a walk, the receiver picks the start (§3.3). */
export interface FindSuccessorRequest {
  readonly key: Id;
  readonly walk?: Walk;
  /** Nodes the lookup found dead: route as if they were gone (p2psim's "bad nodes"). */
  readonly avoid?: readonly Id[];
  /** The walk was restarted already (see `restart`): correction hops may then aim further. */
  readonly restarted?: boolean;
  /**
   * Set when the receiver was named the owner by another node that placed
   * the key after this id: confirm, or name a closer owner (see `confirmOwner`).
   */
  readonly confirmAfter?: Id;
}

export type FindSuccessorReply =
  /**
   * The key's owner first, then the nodes after it: replicas, and backups if
   * the owner died. `predecessor` is the node just before the owner, when
   * known: the anchor of a de Bruijn window (§4) is found this way.
   */
  | {
      readonly kind: 'owner';
      readonly owners: readonly NodeRef[];
      readonly predecessor?: NodeRef;
      readonly localSteps: number;
    }
  /** Ask one of `candidates` (best first) to continue from `walk`. */
  | {
      readonly kind: 'next';
      readonly candidates: readonly NodeRef[];
      readonly walk?: Walk;
      readonly localSteps: number;
    };

/**
 * The §3.3 start: an imaginary node i in (self, successor] whose low bits
 * are the key's top bits, so that only the key's remaining digits need to be
 * shifted in. Fewer remaining digits is better; with n nodes the interval
 * holds about b − log2(n) free bits, leaving about log_k(n) steps.
 *
 * b need not be a multiple of s = log2(k): with j steps left, r = b − s·j
 * bits of the key sit in i, and the key's low s·j bits are shifted in.
 * Returns undefined only when b mod s > 0 and the interval is too small to
 * hold even those b mod s bits; the caller then forwards to the successor.
 */
export function imaginaryStart(space: IdSpace, self: Id, successor: Id, key: Id): Walk | undefined {
  const interval = self === successor ? space.size : distance(space, self, successor);
  const first = wrap(space, self + 1n);
  const maxSteps = Math.floor(space.bits / space.digitBits);
  for (let steps = 1; steps <= maxSteps; steps += 1) {
    const placedBits = space.bits - space.digitBits * steps;
    const modulus = 1n << BigInt(placedBits);
    const wanted = topBits(space, key, placedBits);
    const delta = (((wanted - first) % modulus) + modulus) % modulus;
    if (delta < interval) {
      const imaginary = wrap(space, first + delta);
      return { imaginary, shiftedKey: wrap(space, key << BigInt(placedBits)), stepsLeft: steps };
    }
  }
  return undefined;
}

/** Shift the next digit of the key into i (one de Bruijn hop, §3.3). */
export function advanceWalk(space: IdSpace, walk: Walk): Walk {
  assert(walk.stepsLeft > 0, 'a walk with steps left advances');
  const digit = topBits(space, walk.shiftedKey, space.digitBits);
  return {
    imaginary: deBruijnStep(space, walk.imaginary, digit),
    shiftedKey: wrap(space, walk.shiftedKey << BigInt(space.digitBits)),
    stepsLeft: walk.stepsLeft - 1,
  };
}

/**
 * One node's part of a lookup (Koorde §3.3 with the window of §4):
 * - confirm or correct ownership when asked to (see `confirmOwner`);
 * - answer if the key falls between two ring neighbours we know (ours, our
 *   successors', or in the window: the last de Bruijn hop then costs nothing);
 * - otherwise take de Bruijn steps locally, for free, while the imaginary
 *   node stays in (self, successor]; once it leaves, hand the walk to the
 *   known nodes that precede it, closest first.
 * Nodes in `request.avoid` are treated as gone.
 */
export function findSuccessorStep(fullTable: RoutingTable, request: FindSuccessorRequest): FindSuccessorReply {
  const table = fullTable.without(new Set(request.avoid ?? []));
  const { space, self } = table;
  const successor = table.successor();
  if (table.isAlone()) return { kind: 'owner', owners: [self], localSteps: 0 };
  const confirmed = confirmOwner(table, request);
  if (confirmed !== undefined) return confirmed;
  const known = table.ownerFromRuns(request.key);
  if (known !== undefined) return { kind: 'owner', ...known, localSteps: 0 };
  let walk = request.walk ?? imaginaryStart(space, self.id, successor.id, request.key);
  if (walk === undefined) return restart(table, request.key);
  let localSteps = 0;
  while (walk.stepsLeft > 0 && inHalfOpen(space, walk.imaginary, self.id, successor.id)) {
    walk = advanceWalk(space, walk);
    localSteps += 1;
  }
  if (walk.stepsLeft === 0) assert(walk.imaginary === request.key, 'a finished walk stands on the key');
  const candidates = table.closestPreceding(walk.imaginary);
  assert(candidates.length > 0, 'the successor precedes an imaginary node outside (self, successor]');
  const spans = request.restarted === true ? restartedReachSpans : reachSpans;
  if (!withinReach(table, walk.imaginary, candidates[0], spans)) return restart(table, request.key);
  return { kind: 'next', candidates, walk, localSteps };
}

/**
 * The imaginary node is within reach when the best next hop is in the
 * window (a de Bruijn hop, §4) or the target lies a few successor-list spans
 * ahead (correction hops, §3.3). Otherwise (a window gone stale or not found
 * yet, its nodes dead, a walk handed to a node far from it) following
 * successors to it could take O(n) hops.
 */
function withinReach(table: RoutingTable, target: Id, best: NodeRef | undefined, spans: bigint): boolean {
  if (best !== undefined && table.window.some((w) => w.id === best.id)) return true;
  const last = table.successors.at(-1);
  if (last === undefined) return false;
  const span = distance(table.space, table.self.id, last.id);
  return distance(table.space, table.self.id, target) <= span * spans;
}

/**
 * How many successor-list spans away a correction hop may aim: a few hops
 * of following successors, each skipping r nodes, cost less than a fresh walk.
 */
const reachSpans = 4n;
/**
 * After one restart, further ones would likely meet the same gap (walks for
 * one key end on the same imaginary nodes), so corrections may aim further.
 */
const restartedReachSpans = 16n;

/** Hand the lookup on towards the key itself, and let the next node start a fresh walk. */
function restart(table: RoutingTable, key: Id): FindSuccessorReply {
  return { kind: 'next', candidates: table.closestPreceding(key), localSteps: 0 };
}

/**
 * A node named as the key's owner checks with its own predecessor pointer,
 * which a join's notify updates at once, while the namer's pointers may be
 * stale. If the key lies after our predecessor we own it; if a newer node
 * sits between the key and us, that node (our predecessor) is the closer
 * candidate, and confirming walks back until the owner is found.
 */
function confirmOwner(table: RoutingTable, request: FindSuccessorRequest): FindSuccessorReply | undefined {
  const after = request.confirmAfter;
  const { space, self } = table;
  if (after === undefined || !inHalfOpen(space, request.key, after, self.id)) return undefined;
  const pred = table.predecessor;
  if (
    pred === undefined ||
    !inOpen(space, pred.id, after, self.id) ||
    inHalfOpen(space, request.key, pred.id, self.id)
  ) {
    const before = pred !== undefined ? { predecessor: pred } : {};
    return { kind: 'owner', owners: [self, ...table.successors], ...before, localSteps: 0 };
  }
  return { kind: 'owner', owners: [pred, self, ...table.successors], localSteps: 0 };
}
