import { join } from 'node:path';
import { assert } from '../core/assert.ts';
import { BinaryReader, BinaryWriter } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import { decodeVersion, revisionKey, type BackendOp, type KvBackend } from '../kv/backend.ts';
import { onDisk, type Version } from '../kv/key-index.ts';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../kv/limits.ts';
import { MvccStore, type ApplyResult } from '../kv/mvcc-store.ts';
import type { KeyValue, RangeRequest, RangeResponse } from '../kv/types.ts';
import { ValuesOnDisk } from '../kv/write-txn.ts';
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
 *
 * Write-behind: `apply` answers from memory and leaves its backend writes to
 * be written with those of the applies after it, within `writeBehindMs` (20)
 * or once `writeBehindOps` are waiting. A LevelDB batch costs about 30 µs of CPU
 * whatever it holds and 3.5 µs per record, and a batch per apply (4-6
 * entries under load) made LevelDB a tenth of a node's CPU per write. The
 * store is still written in order, atomically per write, with the applied
 * index; what a crash loses from it, the WAL still holds.
 *
 * Values on disk: once a write has reached the backend, the store lets go of
 * the values of the versions it superseded (only each key's latest value
 * stays in memory, as etcd keeps only its key index). A read of an older
 * revision, and a txn's range at one, reads those values back (`range`,
 * `apply`).
 */
export const KV_DIR_NAME = 'kv';
const SNAPSHOT_CHUNK_BYTES = 256 * 1024;
const writeBehindOps = 1_024;
const valuesOnDisk = { valuesOnDisk: true } as const;

export class DurableKv {
  /** Backend writes of applies not yet handed to the backend, in apply order. */
  private unwritten: BackendOp[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Every backend operation, one after another: writes stay in order, and a snapshot's view falls between two. */
  private backendQueue: Promise<unknown> = Promise.resolve();
  /** A failed backend write: the store on disk no longer matches, so every later call fails with it. */
  private writeError: unknown;

  private constructor(
    private storeValue: MvccStore,
    private readonly backend: KvBackend,
    private readonly writeBehindMs: number,
  ) {}

  /** The state machine, for reads (`range`) and its revisions. Replaced when a snapshot is installed. */
  get store(): MvccStore {
    return this.storeValue;
  }

  static async open(options: {
    dataDir: string;
    limits?: KvLimits;
    backend?: KvBackend;
    /** How long an apply's backend write may wait for later ones. @default 20 */
    writeBehindMs?: number;
  }): Promise<DurableKv> {
    const backend = options.backend ?? (await LevelBackend.open(join(options.dataDir, KV_DIR_NAME)));
    const store = await MvccStore.restore(backend.records(), options.limits ?? DEFAULT_KV_LIMITS, valuesOnDisk);
    return new DurableKv(store, backend, options.writeBehindMs ?? 20);
  }

  get appliedIndex(): number {
    return this.store.appliedIndex;
  }

  /**
   * Applies the committed entries above the applied index; their backend
   * write follows (see write-behind above). Calls must not overlap (the
   * driver applies one batch after the other): one that reads values back
   * from the backend resolves later.
   */
  async apply(entries: readonly Entry[]): Promise<readonly ApplyResult[]> {
    this.throwIfWriteFailed();
    let fresh = entries.filter((entry) => entry.index > this.store.appliedIndex);
    if (fresh.length === 0) return [];
    const results: ApplyResult[] = [];
    const loads = new Loads();
    for (;;) {
      const store = this.store;
      const batch = store.applyEntries(fresh, loads.values);
      results.push(...batch.results);
      for (const op of batch.writes) this.unwritten.push(op);
      if (batch.valuesOnDisk === undefined) break;
      // A txn read an older revision: load what it needs and apply the rest.
      await this.load(batch.valuesOnDisk, loads);
      fresh = fresh.filter((entry) => entry.index > this.store.appliedIndex);
    }
    if (this.unwritten.length >= writeBehindOps) void this.flush().catch(() => undefined);
    else this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), this.writeBehindMs);
    return results;
  }

  /**
   * A read at the request's revision (`MvccStore.range`), reading back from
   * the backend the values of older versions it returns. `revision` is the
   * store's revision when it was answered.
   */
  async range(request: RangeRequest): Promise<{ revision: number; response: RangeResponse }> {
    const loads = new Loads();
    for (;;) {
      const store = this.store;
      try {
        return { revision: store.revision, response: store.range(request, loads.values) };
      } catch (error) {
        if (!(error instanceof ValuesOnDisk)) throw error;
        await this.load(error.versions, loads);
      }
    }
  }

  /**
   * Reads the records of released versions into `loads`. A record can be
   * gone only if a compaction removed its version meanwhile; the caller's
   * next try then finds the revision compacted, or no longer needs it. A
   * version asked for again and still missing is a store out of step with
   * its backend.
   */
  private async load(versions: readonly Version[], loads: Loads): Promise<void> {
    this.throwIfWriteFailed();
    assert(
      versions.some((version) => !loads.values.has(version)),
      'the store asks for values it was given: it would ask forever',
    );
    const keys = versions.map((version) => revisionKey(version.main, version.sub));
    const records = await this.enqueue(() => this.backend.read(keys));
    records.forEach((record, i) => {
      const version = versions[i]!;
      if (record !== undefined) {
        const kv = decodeVersion(keys[i]!, record).version.kv;
        assert(kv !== undefined && kv !== onDisk, 'a released version is no tombstone');
        loads.values.set(version, kv);
      } else if (loads.missing.has(version)) {
        throw new WeftError(
          'BACKEND_MISMATCH',
          `the KV backend has no record of revision ${version.main}.${version.sub}, which the store still holds; restart the member to rebuild its store from the backend`,
        );
      } else loads.missing.add(version);
    });
  }

  /** Makes every applied batch durable (LevelDB's log is sequential: one synced write syncs all before it). */
  async sync(): Promise<void> {
    await this.flush();
    await this.enqueue(() => this.backend.write([], { sync: true }));
  }

  /**
   * Hands every apply so far to the backend, in one atomic write; resolves
   * once written (not synced), and then the values those applies superseded
   * are on disk: the store lets them go.
   */
  private flush(): Promise<void> {
    const batch = this.takeUnwritten();
    const store = this.store;
    const revision = store.revision;
    return this.enqueue(async () => {
      if (batch.length > 0) await this.backend.write(batch, { sync: false });
      // Unless a snapshot replaced the store meanwhile: its restore released what it could.
      if (this.store === store) store.releaseWrittenThrough(revision);
    });
  }

  /** The writes of applies so far, no longer waiting (nor timed) to be written. */
  private takeUnwritten(): BackendOp[] {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.unwritten;
    this.unwritten = [];
    return batch;
  }

  /** Runs a backend operation after every one before it; a failure is kept and fails all later ones. */
  private enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.backendQueue.then(() => {
      this.throwIfWriteFailed();
      return operation();
    });
    this.backendQueue = run.catch((error: unknown) => {
      this.writeError ??= error;
    });
    return run;
  }

  private throwIfWriteFailed(): void {
    if (this.writeError !== undefined) throw this.writeError;
  }

  /**
   * Writes a snapshot of the store as of its applied index at the call into
   * `snapshots`. The backend view holds every apply made before the call and
   * none made after (their writes queue behind it), so applies may go on
   * while it is written.
   */
  async saveSnapshot(snapshots: SnapshotStore, conf: SnapshotMeta['conf'], term: number): Promise<SnapshotMeta> {
    const meta: SnapshotMeta = { index: this.store.appliedIndex, term, conf };
    // The view is taken in the queue, right after the write of every apply so far and before any later one.
    this.flush().catch(() => undefined); // a failure is kept: the next queued operation throws it
    const records = await this.enqueue(async () => this.backend.records());
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
    // Writes of applies not yet made are of the state the snapshot replaces.
    this.takeUnwritten();
    await this.enqueue(() => this.backend.replaceAll(decodeRecords(reader.chunks())));
    const restored = await MvccStore.restore(this.backend.records(), this.store.limits, valuesOnDisk);
    if (restored.appliedIndex !== reader.meta.index) {
      throw new WeftError(
        'BACKEND_MISMATCH',
        `snapshot ${reader.path} holds a store at applied index ${restored.appliedIndex}, not ${reader.meta.index}; it was not made by this store`,
      );
    }
    this.storeValue = restored;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.enqueue(() => this.backend.close());
  }
}

/** What one read or apply has read back from the backend so far. */
class Loads {
  readonly values = new Map<Version, KeyValue>();
  /** Asked for and not found (see DurableKv.load). */
  readonly missing = new Set<Version>();
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
