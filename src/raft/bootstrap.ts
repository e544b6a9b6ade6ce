import { encodeConfChange } from './conf-change.ts';
import type { Entry, HardState, NodeId, SnapshotMeta } from './types.ts';

/** The durable state a member starts from: what the WAL and snapshot store hold. */
export interface InitialState {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta;
  readonly entries: readonly Entry[];
}

const genesisTerm = 1;

/**
 * The state every founding member of a new cluster starts from: one
 * committed `addVoter` entry per member at term 1, indexes 1..n, identical
 * on every founder (as etcd bootstraps). Membership is therefore always in
 * the log or in a snapshot, never only in local configuration: a member
 * that joins later replays these entries (or receives a snapshot) and
 * arrives at the same voter set as everyone else.
 */
export function genesisState(voters: readonly NodeId[]): InitialState {
  const sorted = [...voters].sort();
  const entries: Entry[] = sorted.map((node, i) => ({
    term: genesisTerm,
    index: i + 1,
    kind: 'config',
    data: encodeConfChange({ type: 'addVoter', node, context: '' }),
  }));
  return {
    hardState: { term: genesisTerm, vote: '', commit: entries.length },
    snapshot: emptySnapshot,
    entries,
  };
}

/** A member added at run time starts empty; the leader sends it the log or a snapshot. */
export function joiningState(): InitialState {
  return { hardState: { term: 0, vote: '', commit: 0 }, snapshot: emptySnapshot, entries: [] };
}

const emptySnapshot: SnapshotMeta = { index: 0, term: 0, conf: { voters: [], learners: [] } };
