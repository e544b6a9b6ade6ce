/**
 * The data types Raft shares with the layers around it: the WAL persists
 * entries and hard state, the node driver applies committed entries, the
 * transport carries messages. Everything here is plain data.
 */

/** A member's id; the same string as the node's --id. */
export type NodeId = string;

/**
 * What an entry carries:
 * - `normal`: an opaque command for the state machine (`data`);
 * - `noop`: the empty entry a new leader appends to commit its term (Raft §5.4.2, §8);
 * - `config`: a membership change (`data` is an encoded ConfChange).
 */
export type EntryKind = 'normal' | 'noop' | 'config';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/**
 * The state that must be on disk before any message that depends on it is
 * sent (Raft Figure 2, "persistent state on all servers"). `vote` is the
 * candidate voted for in `term`, or '' for none. `commit` is persisted so a
 * restarted node can apply what it already knew was committed.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/** Who votes and who only learns. Voters and learners are disjoint. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Describes a snapshot: the state machine as of `index` (whose term is `term`), and the membership then. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export const emptyHardState: HardState = { term: 0, vote: '', commit: 0 };
