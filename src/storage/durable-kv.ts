import { join } from 'node:path';
import { assert } from '../core/assert.ts';
import { BinaryReader, BinaryWriter } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import type { KvBackend } from '../kv/backend.ts';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../kv/limits.ts';
import { MvccStore, type ApplyResult } from '../kv/mvcc-store.ts';
import type { Entry, SnapshotMeta } from '../raft/types.ts';
import { LevelBackend } from './level-backend.ts';
import type { SnapshotReader, SnapshotStore } from './snapshot-store.ts';

/**
 * The MVCC store on its backend: what the node driver applies committed
 * entries to. Each `apply` is one atomic backend write that includes the new
 * applied index, so after a crash the store resumes exactly after the last
 * batch it wrote; entries at or below the applied index are skipped, so the
 * driver may replay the WAL from the snapshot without double-applying.
 *
 * Durability: applies are not fsynced (the WAL is the durable copy and is
 * replayed); `sync()` makes everything applied so far durable, and must run
 * before the WAL releases entries the store has applied.
 */
export const KV_DIR_NAME = 'kv';
const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

export class DurableKv {
  private constructor(
    private storeValue: MvccStore,
    private readonly backend: KvBackend,
  ) {}

  /** The state machine, for reads (`range`) and its revisions. Replaced when a snapshot is installed. */
  get store(): MvccStore {
    return this.storeValue;
  }

  static async open(options: { dataDir: string; limits?: KvLimits; backend?: KvBackend }): Promise<DurableKv> {
    const backend = options.backend ?? (await LevelBackend.open(join(options.dataDir, KV_DIR_NAME)));
    const store = await MvccStore.restore(backend.records(), options.limits ?? DEFAULT_KV_LIMITS);
    return new DurableKv(store, backend);
  }

  get appliedIndex(): number {
    return this.store.appliedIndex;
  }

  /** Applies the committed entries above the applied index in one atomic write; returns their results. */
  async apply(entries: readonly Entry[]): Promise<readonly ApplyResult[]> {
    const fresh = entries.filter((entry) => entry.index > this.store.appliedIndex);
    if (fresh.length === 0) return [];
    const { results, writes } = this.store.applyEntries(fresh);
    await this.backend.write(writes, { sync: false });
    return results;
  }

  /** Makes every applied batch durable (LevelDB's log is sequential: one synced write syncs all before it). */
  async sync(): Promise<void> {
    await this.backend.write([], { sync: true });
  }

  /**
   * Writes a snapshot of the store as of its applied index at the call into
   * `snapshots`. The backend view is taken at the call, so applies may go on
   * while it is written, but none may be in flight when it is called (its
   * backend write would be half in the view).
   */
  async saveSnapshot(snapshots: SnapshotStore, conf: SnapshotMeta['conf'], term: number): Promise<SnapshotMeta> {
    const meta: SnapshotMeta = { index: this.store.appliedIndex, term, conf };
    const records = this.backend.records();
    const writer = await snapshots.create(meta);
    try {
      let chunk = new BinaryWriter(SNAPSHOT_CHUNK_BYTES + 1024);
      for await (const [key, value] of records) {
        chunk.bytes(key).bytes(value);
        if (chunk.finish().length >= SNAPSHOT_CHUNK_BYTES) {
          await writer.write(chunk.finish());
          chunk = new BinaryWriter(SNAPSHOT_CHUNK_BYTES + 1024);
        }
      }
      await writer.write(chunk.finish());
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return meta;
  }

  /**
   * Replaces the store with a verified snapshot (one received from the
   * leader, or the local one after an interrupted install). The records are
   * written as they stream; a checksum failure at the end leaves no meta
   * record, i.e. applied index 0, so a damaged snapshot is never taken as good.
   */
  async installSnapshot(reader: SnapshotReader): Promise<void> {
    await this.backend.replaceAll(decodeRecords(reader.chunks()));
    const restored = await MvccStore.restore(this.backend.records(), this.store.limits);
    if (restored.appliedIndex !== reader.meta.index) {
      throw new WeftError(
        'BACKEND_MISMATCH',
        `snapshot ${reader.path} holds a store at applied index ${restored.appliedIndex}, not ${reader.meta.index}; it was not made by this store`,
      );
    }
    this.storeValue = restored;
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}

/** Splits the snapshot's data stream back into (key, value) records; a record may span chunks. */
async function* decodeRecords(chunks: AsyncIterable<Uint8Array>): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
  let pending = new Uint8Array(0);
  for await (const chunk of chunks) {
    const joined = new Uint8Array(pending.length + chunk.length);
    joined.set(pending);
    joined.set(chunk, pending.length);
    let consumed = 0;
    for (;;) {
      const record = tryRecord(joined, consumed);
      if (record === undefined) break;
      consumed = record.end;
      yield [record.key, record.value];
    }
    pending = joined.subarray(consumed);
  }
  assert(pending.length === 0, 'a verified snapshot ends on a record boundary');
}

function tryRecord(bytes: Uint8Array, offset: number): { key: Uint8Array; value: Uint8Array; end: number } | undefined {
  const reader = new BinaryReader(bytes.subarray(offset), 'snapshot record');
  try {
    const key = reader.bytes();
    const value = reader.bytes();
    return { key, value, end: offset + reader.position };
  } catch {
    return undefined;
  }
}
