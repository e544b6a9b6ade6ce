import { assert } from '../core/assert.ts';
import { WeftError } from '../core/errors.ts';
import type { SnapshotMeta } from '../raft/types.ts';
import { LogMirror } from './log-mirror.ts';
import type { LogState, LogStorage, LogUpdate } from './log-storage.ts';

/**
 * An in-memory LogStorage: a first-class implementation for the simulator
 * and for tests of the node layer, with the same contract as the WAL.
 * "Durable" here means "survives as long as this object".
 */
export class MemoryLog implements LogStorage {
  private readonly mirror = new LogMirror();
  private closed = false;

  private checkOpen(): void {
    if (this.closed) throw new WeftError('WAL_CLOSED', 'the log is closed; open it again to write');
  }

  // The methods are async so every refusal is a rejected promise, as with the WAL.
  async append(update: LogUpdate): Promise<void> {
    this.checkOpen();
    this.mirror.validate(update);
    this.mirror.applyEntries(update.entries);
    if (update.hardState !== undefined) this.mirror.applyHardState(update.hardState);
  }

  async saveSnapshotMarker(meta: SnapshotMeta): Promise<void> {
    this.checkOpen();
    assert(meta.index >= this.mirror.snapshotIndex(), 'snapshot markers never go back');
    this.mirror.applySnapshot(meta);
  }

  readAll(): LogState {
    return this.mirror.state();
  }

  async releaseBefore(index: number): Promise<void> {
    this.checkOpen();
    assert(index <= this.mirror.snapshotIndex() + 1, `release before ${index} keeps the entries after the snapshot`);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
