import type { NodeId } from './types.ts';

/**
 * Majority math over plain data, kept apart so it can be checked against a
 * naive version (etcd-io/raft's quorum package does the same).
 */

/** The largest index that a majority of `voters` have matched. 0 when there are no voters. */
export function majorityCommitted(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  // Sorted descending by insertion: this runs for every append answer, voter
  // sets are a handful, and Array.prototype.sort allocates a work copy each time.
  const matches = voters.map(matchOf);
  for (let i = 1; i < matches.length; i += 1) {
    const match = matches[i]!;
    let j = i - 1;
    while (j >= 0 && matches[j]! < match) {
      matches[j + 1] = matches[j]!;
      j -= 1;
    }
    matches[j + 1] = match;
  }
  return matches[Math.floor(voters.length / 2)] ?? 0;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Whether `votes` (granted or rejected by voter id) already decide an election among `voters`. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const needed = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted += 1;
    else if (vote === false) rejected += 1;
  }
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}

/** True when the ids in `acked` include a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], acked: (id: NodeId) => boolean): boolean {
  return voters.filter(acked).length > voters.length / 2;
}
