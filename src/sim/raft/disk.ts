import { assert } from '../../core/assert.ts';
import type { Entry, HardState, SnapshotMeta } from '../../raft/types.ts';

/** A snapshot as stored: its Raft metadata and the state machine image. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** What survives a crash. Entries are contiguous by index. */
export interface DurableState {
  hardState: HardState;
  snapshot: StoredSnapshot;
  entries: Entry[];
}

const snapshotsKept = 3;

type Write =
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'entries'; entries: readonly Entry[] }
  | { kind: 'snapshot'; snapshot: StoredSnapshot };

/**
 * A simulated disk: writes land in a volatile buffer and become durable only
 * when synced. A crash loses the buffer, as a real crash loses what was
 * written but not fsync'd.
 */
export class SimDisk {
  private durable: DurableState;
  private buffered: Write[] = [];
  /** Older snapshots kept besides the newest, as a real snapshot store keeps the last few. */
  private older: StoredSnapshot[] = [];

  constructor(initial: { hardState: HardState; snapshot: StoredSnapshot; entries: readonly Entry[] }) {
    this.durable = { ...initial, entries: [...initial.entries] };
  }

  write(write: Write): void {
    this.buffered.push(write);
  }

  sync(): void {
    for (const write of this.buffered) applyWrite(this.durable, write);
    this.buffered = [];
  }

  /** Snapshots taken by the replica itself are written and synced at once (temp file + rename + fsync). */
  saveSnapshotNow(snapshot: StoredSnapshot, keepFrom: number): void {
    this.sync();
    this.older = [this.durable.snapshot, ...this.older].slice(0, snapshotsKept - 1);
    this.durable.snapshot = snapshot;
    dropBefore(this.durable.entries, keepFrom);
  }

  /** The stored snapshot at `index`, if it is still kept. */
  snapshotAt(index: number): StoredSnapshot | undefined {
    return [this.durable.snapshot, ...this.older].find((s) => s.meta.index === index);
  }

  crash(): void {
    this.buffered = [];
  }

  /** A copy of the durable state, as a restart reads it. */
  read(): DurableState {
    return { ...this.durable, entries: [...this.durable.entries] };
  }

  /** The newest durable snapshot, without copying the log. */
  snapshot(): StoredSnapshot {
    return this.durable.snapshot;
  }
}

function applyWrite(state: DurableState, write: Write): void {
  switch (write.kind) {
    case 'hardState':
      state.hardState = write.hardState;
      return;
    case 'snapshot':
      state.snapshot = write.snapshot;
      dropBefore(state.entries, write.snapshot.meta.index + 1);
      return;
    case 'entries': {
      const first = write.entries[0];
      if (first === undefined) return;
      // An entry at index i replaces i and everything after it (the Ready contract).
      const offset = state.entries[0]?.index ?? first.index;
      state.entries.length = Math.max(0, Math.min(state.entries.length, first.index - offset));
      const last = state.entries.at(-1);
      assert(
        last === undefined || last.index + 1 === first.index,
        `persisted entries stay contiguous (have ..${last?.index}, writing ${first.index}.., snapshot ${state.snapshot.meta.index})`,
      );
      state.entries.push(...write.entries);
      return;
    }
  }
}

/** Drop entries with an index below `index`. */
function dropBefore(entries: Entry[], index: number): void {
  const first = entries[0]?.index;
  if (first === undefined || index <= first) return;
  entries.splice(0, Math.min(entries.length, index - first));
}
