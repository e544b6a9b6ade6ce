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
  /**
   * Being streamed to, and has acknowledged every entry the leader had
   * committed at its previous ranking: its log is at most about a heartbeat
   * behind the leader's.
   */
  readonly caughtUp: boolean;
  /** Smoothed round-trip time to the leader, if measured. */
  readonly rttMs: number | undefined;
}

/**
 * Best first: the caught-up members (a majority will vote for their logs,
 * and rule 5 of docs/s-raft.md covers the few entries rank 0 may miss), in
 * the order of the previous ranking, then the fastest link, then the id.
 *
 * The previous order comes before the link and before exact log positions
 * because a ranking that changes between heartbeats can split the
 * followers: when the leader dies, one may hold the newer ranking and the
 * other the older (a heartbeat still queued, or dropped as late after the
 * hint), and under write load the most caught-up follower changes with
 * every acknowledgement. Two followers that each hold a ranking where the
 * other is rank 0 both wait a promotion wait before either campaigns (two
 * traced failovers lost about 50 ms this way). So a ranking changes only
 * when a member falls behind, comes back, joins or leaves.
 */
export function rankSuccessors(candidates: readonly SuccessorCandidate[], previous: readonly NodeId[]): NodeId[] {
  const position = (id: NodeId): number => {
    const at = previous.indexOf(id);
    return at < 0 ? previous.length : at;
  };
  return [...candidates]
    .sort(
      (a, b) =>
        Number(b.caughtUp) - Number(a.caughtUp) ||
        position(a.id) - position(b.id) ||
        (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) ||
        (a.id < b.id ? -1 : 1),
    )
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
