import { createPrng, type Prng } from '../../core/prng.ts';
import type { Mutations } from '../../raft/mutations.ts';

/**
 * Everything one simulated run does, drawn from its seed (swarm testing,
 * after TigerBeetle's VOPR): each seed explores its own mix of faults, so a
 * sweep of seeds covers calm and hostile worlds alike.
 */
export interface NetworkOptions {
  readonly delayMinMs: number;
  /** Mean of the exponential part of the delay; reordering follows from it. */
  readonly delayMeanMs: number;
  readonly lossRate: number;
  readonly duplicateRate: number;
  /** Expected partitions started per simulated second. */
  readonly partitionsPerSec: number;
  readonly partitionMeanMs: number;
  /** Share of partitions that cut one direction only. */
  readonly asymmetricShare: number;
  /** Expected link clogs per second: a link delays everything for a while. */
  readonly clogsPerSec: number;
  readonly clogMeanMs: number;
}

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly consensus: 'raft' | 's-raft';
  /** S-Raft: ticks the rank-0 successor waits for the leader. */
  readonly promotionTicks: number;
  /** Chance that a crash resets its TCP connections, so peers get a "connection lost" hint. */
  readonly crashHintRate: number;
  /** Each replica's clock runs up to this fraction fast or slow. */
  readonly clockDrift: number;
  readonly safetyMs: number;
  readonly livenessMs: number;
  readonly network: NetworkOptions;
  readonly fsyncMinMs: number;
  readonly fsyncMeanMs: number;
  readonly crashesPerSec: number;
  readonly restartMeanMs: number;
  /** Chance that a member crashes right after persisting a new vote, then restarts within milliseconds. */
  readonly crashAfterVoteRate: number;
  /** Chance that a new leader crashes right after its first commit in its term. */
  readonly crashAfterFirstCommitRate: number;
  /** Chance that a new leader crashes after persisting its first entries, before sending them. */
  readonly crashAfterElectionRate: number;
  /** Small values split appends into many messages, so acknowledgements cover parts of a batch. */
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  /** Expected membership changes per second (0: a fixed membership). */
  readonly confChangesPerSec: number;
  readonly maxMembers: number;
  readonly compactEveryEntries: number;
  readonly keepEntries: number;
  readonly proposalsPerSec: number;
  /** 'raft': clients propose opaque values; 'kv': clients read and write keys, and the history is checked for linearizability. */
  readonly workload: 'raft' | 'kv';
  readonly mutations: Mutations & {
    readonly forgetVoteOnRestart?: boolean;
    /** KV workload: serve gets from the local state machine, without ReadIndex. */
    readonly readWithoutIndex?: boolean;
  };
}

export type OptionOverrides = Partial<Omit<SimOptions, 'network'>> & { network?: Partial<NetworkOptions> };

export function drawOptions(seed: number, overrides: OptionOverrides = {}): SimOptions {
  const prng = createPrng(seed);
  const network: NetworkOptions = {
    delayMinMs: prng.pick([0.1, 0.5, 1, 2]),
    delayMeanMs: prng.pick([0.5, 2, 5, 15]),
    lossRate: prng.pick([0, 0, 0.01, 0.05, 0.15]),
    duplicateRate: prng.pick([0, 0.01, 0.05]),
    partitionsPerSec: prng.pick([0, 0.1, 0.3, 1]),
    partitionMeanMs: prng.pick([200, 1_000, 3_000]),
    asymmetricShare: prng.pick([0, 0.3, 0.6]),
    clogsPerSec: prng.pick([0, 0.1, 0.5]),
    clogMeanMs: prng.pick([100, 500]),
    ...overrides.network,
  };
  const base: SimOptions = {
    seed,
    nodes: prng.pick([3, 3, 5]),
    tickMs: 10,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: prng.chance(0.8),
    checkQuorum: prng.chance(0.8),
    consensus: prng.chance(0.5) ? 's-raft' : 'raft',
    promotionTicks: 3,
    crashHintRate: prng.pick([0, 0.5, 1]),
    clockDrift: prng.pick([0, 0.01, 0.05]),
    safetyMs: 20_000,
    livenessMs: 20_000,
    network,
    fsyncMinMs: prng.pick([0.1, 1]),
    fsyncMeanMs: prng.pick([0.5, 2, 8]),
    crashesPerSec: prng.pick([0, 0.05, 0.2, 0.5]),
    restartMeanMs: prng.pick([100, 1_000, 3_000]),
    crashAfterVoteRate: prng.pick([0, 0, 0.1, 0.3]),
    crashAfterFirstCommitRate: prng.pick([0, 0, 0.2, 0.5]),
    crashAfterElectionRate: prng.pick([0, 0, 0.2, 0.5]),
    maxSizePerMsgBytes: prng.pick([1, 100, 1024 * 1024]),
    maxInflightMsgs: prng.pick([1, 8, 256]),
    confChangesPerSec: prng.pick([0, 0, 0.2, 0.5]),
    maxMembers: 5,
    compactEveryEntries: prng.pick([20, 100, 1_000]),
    keepEntries: prng.pick([0, 5, 50]),
    proposalsPerSec: prng.pick([10, 50, 200]),
    workload: 'raft',
    mutations: {},
  };
  return { ...base, ...withoutNetwork(overrides), network };
}

/** A delay: a fixed minimum plus an exponential tail with the given mean. */
export function drawDelay(prng: Prng, minMs: number, meanMs: number): number {
  return minMs - meanMs * Math.log(1 - prng.next());
}

export function describeOptions(o: SimOptions): string {
  const n = o.network;
  return [
    `nodes=${o.nodes} consensus=${o.consensus} prevote=${o.preVote} checkquorum=${o.checkQuorum} drift=${o.clockDrift} crash-hints=${o.crashHintRate}`,
    `net: delay=${n.delayMinMs}+exp(${n.delayMeanMs})ms loss=${n.lossRate} dup=${n.duplicateRate}`,
    `partitions=${n.partitionsPerSec}/s (~${n.partitionMeanMs}ms, ${n.asymmetricShare} one-way) clogs=${n.clogsPerSec}/s`,
    `disk: fsync=${o.fsyncMinMs}+exp(${o.fsyncMeanMs})ms crashes=${o.crashesPerSec}/s restart~${o.restartMeanMs}ms crash-after-vote=${o.crashAfterVoteRate} crash-after-first-commit=${o.crashAfterFirstCommitRate} crash-after-election=${o.crashAfterElectionRate}`,
    `raft: max msg=${o.maxSizePerMsgBytes}B inflight=${o.maxInflightMsgs}`,
    `workload=${o.workload} conf changes=${o.confChangesPerSec}/s compact every ${o.compactEveryEntries} keep ${o.keepEntries} proposals=${o.proposalsPerSec}/s`,
  ].join('\n');
}

function withoutNetwork(overrides: OptionOverrides): Partial<Omit<SimOptions, 'network'>> {
  const copy: Record<string, unknown> = { ...overrides };
  delete copy['network'];
  return copy as Partial<Omit<SimOptions, 'network'>>;
}
