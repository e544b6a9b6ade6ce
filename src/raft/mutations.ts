/**
 * Planted bugs for the simulator's teeth: each turns off one rule Raft's
 * safety rests on, so a test can show the checkers catch the violation.
 * Only the simulator constructs these; no node configuration reaches them.
 */
export interface Mutations {
  /** Grant votes without the log up-to-date check (§5.4.1). */
  readonly voteIgnoresLog?: boolean;
  /** Commit by counting replicas of entries from earlier terms (§5.4.2, Figure 8). */
  readonly commitOldTerm?: boolean;
  /** S-Raft as the seed project did it: rank successors by RTT alone and elect rank 0 without the log check. */
  readonly sraftSkipLogCheck?: boolean;
  /** S-Raft granting the rank-0 successor a vote even after voting for another candidate in the term. */
  readonly sraftDoubleVote?: boolean;
}

export const noMutations: Mutations = {};
