import { ConfigError } from '../core/errors.ts';
import type { NodeId } from './types.ts';

/**
 * How one Raft member behaves. Time is in ticks: the driver calls tick() at
 * a fixed interval (the node's heartbeat interval divided by heartbeatTicks).
 * Defaults follow etcd (ElectionTick = 10 x HeartbeatTick, pre-vote and
 * check-quorum on); limits are documented in docs/LIMITS.md.
 */
export interface RaftConfig {
  readonly id: NodeId;
  /** A follower that hears no leader for a random time in [electionTicks, 2 x electionTicks) campaigns. @default 10 */
  readonly electionTicks: number;
  /** A leader sends heartbeats every heartbeatTicks. @default 1 */
  readonly heartbeatTicks: number;
  /** Ask for pre-votes before bumping the term, so a partitioned node cannot disrupt (thesis §9.6). @default true */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum for electionTicks steps down. @default true */
  readonly checkQuorum: boolean;
  /** 'safe': ReadIndex confirms leadership with a quorum round; 'lease': trusts check-quorum's lease. @default 'safe' */
  readonly readOnly: 'safe' | 'lease';
  /** Entry bytes per append message (at least one entry is always sent). @default 1 MiB */
  readonly maxSizePerMsgBytes: number;
  /** Append messages in flight to one follower in the replicate state. @default 256 */
  readonly maxInflightMsgs: number;
  /** Entry bytes in flight to one follower. @default 32 MiB */
  readonly maxInflightBytes: number;
  /** Bytes of proposed but uncommitted entries a leader accepts before refusing proposals. @default 64 MiB */
  readonly maxUncommittedBytes: number;
  /** ReadIndex requests waiting for a quorum or for the leader's first commit. @default 4096 */
  readonly maxPendingReads: number;
  /** 'raft', or 's-raft': the leader names ranked successors that take over fast (docs/s-raft.md). @default 'raft' */
  readonly consensus: 'raft' | 's-raft';
  /** S-Raft: ticks without the leader after which the rank-0 successor campaigns. @default 3 */
  readonly promotionTicks: number;
}

export const defaultRaftConfig: Omit<RaftConfig, 'id'> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  readOnly: 'safe',
  maxSizePerMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxPendingReads: 4096,
  consensus: 'raft',
  promotionTicks: 3,
};

/** Fill defaults and check relations between fields; throws ConfigError naming the field. */
export function raftConfig(partial: Partial<RaftConfig> & { id: NodeId }): RaftConfig {
  const config: RaftConfig = { ...defaultRaftConfig, ...partial };
  if (config.id === '') throw new ConfigError('id', 'a Raft member needs a non-empty id');
  positive(config.heartbeatTicks, 'heartbeat-ticks');
  positive(config.maxSizePerMsgBytes, 'max-size-per-msg-bytes');
  positive(config.maxInflightMsgs, 'max-inflight-msgs');
  positive(config.maxInflightBytes, 'max-inflight-bytes');
  positive(config.maxUncommittedBytes, 'max-uncommitted-bytes');
  positive(config.maxPendingReads, 'max-pending-reads');
  if (config.electionTicks <= config.heartbeatTicks) {
    throw new ConfigError('election-ticks', 'must be greater than heartbeat-ticks (etcd suggests 10x)');
  }
  if (config.readOnly === 'lease' && !config.checkQuorum) {
    throw new ConfigError('read-only', 'lease reads are only safe with check-quorum on; use "safe" or enable it');
  }
  positive(config.promotionTicks, 'promotion-ticks');
  if (config.consensus === 's-raft') checkSRaft(config);
  return config;
}

/**
 * S-Raft's timeouts must sit between the heartbeat and the election timeout:
 * the rank-0 successor waits for more than one heartbeat interval, and rank
 * 1 (at 2 x promotion + 1 ticks) still comes before everyone else.
 */
function checkSRaft(config: RaftConfig): void {
  if (config.promotionTicks <= config.heartbeatTicks) {
    throw new ConfigError(
      'promotion-ticks',
      'must be greater than heartbeat-ticks, or every slow heartbeat starts an election',
    );
  }
  if (2 * config.promotionTicks + 1 >= config.electionTicks) {
    throw new ConfigError('promotion-ticks', 'with s-raft, 2 x promotion-ticks + 1 must be less than election-ticks');
  }
  if (config.readOnly === 'lease') {
    // A lease is only safe while no other leader can be elected, and a
    // successor is elected after promotionTicks, sooner than check-quorum's
    // election timeout: use ReadIndex reads with s-raft (docs/s-raft.md).
    throw new ConfigError('read-only', 'lease reads are not offered with s-raft; use "safe" (ReadIndex)');
  }
}

function positive(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(field, `must be a whole number ≥ 1, got ${value}`);
}
