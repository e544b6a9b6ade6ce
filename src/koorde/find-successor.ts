import { assert } from '../core/assert.ts';
import { deBruijnStep, distance, inHalfOpen, topBits, wrap, type Id, type IdSpace } from './id-space.ts';
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
 * answer if the key is ours or our successor's; otherwise take de Bruijn
 * steps locally, for free, while the imaginary node stays in
 * (self, successor]; once it leaves, hand the walk to the known nodes that
 * precede it, closest first.
 */
export function findSuccessorStep(fullTable: RoutingTable, request: FindSuccessorRequest): FindSuccessorReply {
  const table = fullTable.without(new Set(request.avoid ?? []));
  const { space, self } = table;
  const successor = table.successor();
  if (table.isAlone()) return { kind: 'owner', owners: [self], localSteps: 0 };
  const pred = table.predecessor;
  if (pred !== undefined && inHalfOpen(space, request.key, pred.id, self.id)) {
    return { kind: 'owner', owners: [self, ...table.successors], predecessor: pred, localSteps: 0 };
  }
  if (inHalfOpen(space, request.key, self.id, successor.id)) {
    return { kind: 'owner', owners: table.successors, predecessor: self, localSteps: 0 };
  }
  let walk = request.walk ?? imaginaryStart(space, self.id, successor.id, request.key);
  if (walk === undefined) return { kind: 'next', candidates: table.closestPreceding(request.key), localSteps: 0 };
  let localSteps = 0;
  while (walk.stepsLeft > 0 && inHalfOpen(space, walk.imaginary, self.id, successor.id)) {
    walk = advanceWalk(space, walk);
    localSteps += 1;
  }
  if (walk.stepsLeft === 0) assert(walk.imaginary === request.key, 'a finished walk stands on the key');
  const candidates = table.closestPreceding(walk.imaginary);
  assert(candidates.length > 0, 'the successor precedes an imaginary node outside (self, successor]');
  return { kind: 'next', candidates, walk, localSteps };
}
