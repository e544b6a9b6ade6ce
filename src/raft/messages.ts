import type { Entry, NodeId, SnapshotMeta } from './types.ts';

/**
 * Messages between Raft members. Every message carries the sender's term;
 * the receiver's first step compares terms (Raft §5.1, Figure 2 "Rules for
 * Servers": a higher term makes anyone a follower, a lower one is stale).
 */
interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** AppendEntries (§5.3): entries after (index, logTerm), and the leader's commit. */
export interface AppendMessage extends Envelope {
  readonly type: 'app';
  /** Index of the entry immediately before `entries`. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Reply to `app` or `snap`. Accepted: `index` is the last index now known to
 * match the leader. Rejected: `index` is the rejected `app.index`, and
 * (`hintIndex`, `hintTerm`) point at where to probe next (the fast back-off
 * of §5.3, refined as in etcd: the largest index ≤ the probe whose term is
 * ≤ the leader's term at that index).
 */
export interface AppendResponseMessage extends Envelope {
  readonly type: 'appResp';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** RequestVote (§5.2) or its pre-vote form (thesis §9.6), with the candidate's last log position. */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set by a leader transfer's target: voters ignore their leader stickiness (thesis §3.10). */
  readonly transfer: boolean;
  /** S-Raft: the candidate's rank in the successor ranking it holds for this term; -1 for none (and in plain Raft). */
  readonly rank: number;
}

export interface VoteResponseMessage extends Envelope {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

/** Leader liveness; `context` rides along for ReadIndex quorum checks (thesis §6.4). */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: string;
  /** S-Raft: the leader's current successor ranking, best first. Empty in plain Raft. */
  readonly successors: readonly NodeId[];
}

export interface HeartbeatResponseMessage extends Envelope {
  readonly type: 'heartbeatResp';
  readonly context: string;
}

/** InstallSnapshot (§7): the data travels beside the message, sent by the driver in chunks. */
export interface SnapshotMessage extends Envelope {
  readonly type: 'snap';
  readonly snapshot: SnapshotMeta;
}

/** Leader transfer: "campaign now", bypassing pre-vote and stickiness (thesis §3.10). */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of a local reader. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponseMessage extends Envelope {
  readonly type: 'readIndexResp';
  readonly context: string;
  /** The read index, or 0 when the leader could not serve the request (the reader retries). */
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/** Messages whose sender asserts leadership for its term. */
export function isFromLeader(message: Message): boolean {
  return message.type === 'app' || message.type === 'heartbeat' || message.type === 'snap';
}

/**
 * What an entry costs on the wire beyond its payload (term, index, kind and
 * framing), so that size limits also bound empty entries, as etcd's do.
 */
export const entryOverheadBytes = 16;

export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + entryOverheadBytes;
}

/** Entry bytes, for the in-flight byte window, message size and uncommitted limits. */
export function entriesBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entryBytes(entry);
  return total;
}
