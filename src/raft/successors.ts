import { assert } from '../core/assert.ts';
import type { Prng } from '../core/prng.ts';
import type { NodeId } from './types.ts';

/**
 * S-Raft: the leader names its successors so that, when it dies, the best
 * of them takes over almost at once, instead of every follower waiting out
 * a randomized election timeout. Only timing changes: elections still go
 * through (pre-)votes that obey term, one vote per term and the log check.
 */

export interface SuccessorCandidate {
  readonly id: NodeId;
  /** Highest index known to match the leader's log. */
  readonly match: number;
  /** Smoothed round-trip time to the leader, if measured. */
  readonly rttMs: number | undefined;
}

/**
 * Best first: the most caught-up log (it is the one a majority will vote
 * for), then the fastest link (it hears of the leader's death soonest and
 * reaches the voters soonest), then the id, so the order is total.
 */
export function rankSuccessors(candidates: readonly SuccessorCandidate[]): NodeId[] {
  return [...candidates]
    .sort((a, b) => b.match - a.match || (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) || (a.id < b.id ? -1 : 1))
    .map((c) => c.id);
}

/** How long a follower waits for the leader before campaigning, by its rank among the successors. */
export function successorTimeoutTicks(
  rank: number,
  timing: { promotionTicks: number; electionTicks: number },
  prng: Prng,
): number {
  assert(timing.promotionTicks >= 1, 'promotion waits at least a tick');
  if (rank === 0) return timing.promotionTicks;
  // Rank 1 steps in if rank 0 is gone too, before anyone else, with a tick of jitter.
  if (rank === 1) return 2 * timing.promotionTicks + prng.int(0, 1);
  return timing.electionTicks + prng.int(0, timing.electionTicks - 1);
}

/** Round-trip times as an exponentially weighted moving average per peer, fed by the driver's clock. */
export class RttEstimator {
  private readonly smoothed = new Map<NodeId, number>();

  constructor(private readonly weight = 0.3) {}

  report(id: NodeId, rttMs: number): void {
    if (!(rttMs >= 0) || !Number.isFinite(rttMs)) return;
    const previous = this.smoothed.get(id);
    this.smoothed.set(id, previous === undefined ? rttMs : previous + this.weight * (rttMs - previous));
  }

  get(id: NodeId): number | undefined {
    return this.smoothed.get(id);
  }
}
