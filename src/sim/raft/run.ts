import { SimCluster, type RunResult } from './cluster.ts';
import { drawOptions, type OptionOverrides } from './options.ts';

/** Run one seed. Same seed and overrides, same run, event for event. */
export function runSeed(seed: number, overrides: OptionOverrides = {}, traceAll?: (line: string) => void): RunResult {
  return new SimCluster(drawOptions(seed, overrides), traceAll).run();
}

export const mutationNames = [
  'vote-ignores-log',
  'commit-old-term',
  'forget-vote-on-restart',
  'sraft-skip-log-check',
  'sraft-double-vote',
  'kv-stale-reads',
] as const;
export type MutationName = (typeof mutationNames)[number];

/**
 * The option overrides that plant a bug, in a world where it can show. A
 * planted bug needs its own conditions to become observable: Figure 8 needs
 * five members, one-entry appends and new leaders that crash at the wrong
 * moment; a forgotten vote needs split votes and a voter that restarts right
 * after voting. Everything else is still drawn from the seed.
 */
export function mutationOverrides(name: MutationName): OptionOverrides {
  switch (name) {
    case 'vote-ignores-log':
      return { mutations: { voteIgnoresLog: true } };
    case 'commit-old-term':
      return {
        mutations: { commitOldTerm: true },
        nodes: 5,
        maxSizePerMsgBytes: 1,
        maxInflightMsgs: 1,
        crashAfterElectionRate: 0.5,
        crashAfterFirstCommitRate: 0.5,
        preVote: false,
        checkQuorum: false,
      };
    case 'forget-vote-on-restart':
      return { mutations: { forgetVoteOnRestart: true }, crashAfterVoteRate: 0.5, preVote: false };
    case 'sraft-skip-log-check':
      return { mutations: { sraftSkipLogCheck: true }, consensus: 's-raft' };
    case 'sraft-double-vote':
      return { mutations: { sraftDoubleVote: true }, consensus: 's-raft' };
    case 'kv-stale-reads':
      return { mutations: { readWithoutIndex: true }, workload: 'kv' };
  }
}
