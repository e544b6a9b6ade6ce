import type { Entry, HardState, SnapshotMeta } from '../raft/types.ts';

/**
 * The durable log the node driver hands each Raft `Ready` to. Two
 * implementations pass one contract suite (log-storage-contract.test.ts):
 * `Wal` (segment files, group commit) and `MemoryLog` (the simulator's).
 *
 * Ordering rule (Raft Figure 2): the driver awaits `append` before sending
 * the messages of the same Ready, because those messages promise that the
 * entries and the vote are on disk.
 */
export interface LogUpdate {
  /** The hard state to persist with these entries (Ready.hardState). */
  readonly hardState?: HardState;
  /**
   * Entries to append (Ready.entries): contiguous, ascending. The first may
   * be at or below the last index: the log is then truncated after
   * `entries[0].index - 1` first (a conflicting suffix from an old leader,
   * Raft §5.3). It must be above the snapshot index.
   */
  readonly entries: readonly Entry[];
}

/** What survived: the state to start Raft from. */
export interface LogState {
  readonly hardState: HardState;
  /** The newest snapshot marker, if any: the state machine image the log continues from. */
  readonly snapshot: SnapshotMeta | undefined;
  /** The entries after the snapshot (or from index 1): contiguous and ascending. */
  readonly entries: readonly Entry[];
}

export interface LogStorage {
  /** Resolves once the update is durable (or, for `sync: 'none'`, written). Appends are applied in call order. */
  append(update: LogUpdate): Promise<void>;
  /**
   * Records that a snapshot at `meta.index` is safely in the snapshot store.
   * Entries up to that index are covered by it; if the log holds the entry at
   * `meta.index` with `meta.term`, the entries after it are kept, otherwise
   * the log is replaced by the snapshot (Raft §7).
   */
  saveSnapshotMarker(meta: SnapshotMeta): Promise<void>;
  /** The current durable state; on a freshly opened log, what recovery found. */
  readAll(): LogState;
  /**
   * Lets storage drop what only serves entries below `index` (whole WAL
   * segments). `index` must not exceed the snapshot index + 1: the log must
   * always be able to continue from its snapshot.
   */
  releaseBefore(index: number): Promise<void>;
  close(): Promise<void>;
}
