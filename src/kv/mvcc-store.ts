import { assert } from '../core/assert.ts';
import { packCopies } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import type { Entry } from '../raft/types.ts';
import {
  decodeDedup,
  decodeMeta,
  decodeVersion,
  dedupKey,
  encodeDedup,
  encodeMeta,
  encodeVersion,
  META_KEY,
  RECORD_PREFIX,
  revisionKey,
  type BackendBatch,
  type BackendOp,
  type StoreMeta,
} from './backend.ts';
import { decodeCommand } from './command-codec.ts';
import { DedupWindow, type Remembered } from './dedup-window.ts';
import type { Command, CommandResponse } from './command.ts';
import { KeyIndex, onDisk, type KeyHistory, type Version } from './key-index.ts';
import { bytesKey } from './key-range.ts';
import { checkRequestSize, DEFAULT_KV_LIMITS, validateCommand, type KvLimits } from './limits.ts';
import type { Event, KeyValue, RangeRequest, RangeResponse } from './types.ts';
import { readRange, ValuesOnDisk, WriteTxn, type LoadedValues, type StoreView } from './write-txn.ts';

/** How a committed command ended. Errors are deterministic: every replica reaches the same one. */
export type ApplyOutcome =
  | { readonly status: 'ok'; readonly response: CommandResponse }
  | { readonly status: 'error'; readonly error: WeftError }
  /** The request id was applied before (at `revision`); this copy changed nothing. */
  | { readonly status: 'duplicate'; readonly revision: number };

export interface ApplyResult {
  readonly index: number;
  readonly requestId: number;
  /** The store revision after this entry (etcd's response header revision). */
  readonly revision: number;
  readonly outcome: ApplyOutcome;
  /** What watchers see: one event per changed key, with its previous state. */
  readonly events: readonly Event[];
}

export interface AppliedBatch {
  /** One result per normal entry; no-op and config entries only advance the applied index. */
  readonly results: readonly ApplyResult[];
  /** Every change of the batch plus the new applied index: write it in one atomic backend write. */
  readonly writes: BackendBatch;
  /**
   * Set when an entry's historic read (a txn's range at an older revision)
   * met released values: that entry and the ones after it were not applied.
   * Read these versions' records, and apply the rest with their values.
   */
  readonly valuesOnDisk?: readonly Version[];
}

export interface MvccStoreOptions {
  /**
   * Let the values of superseded versions go from memory once their records
   * are written (`releaseWrittenThrough`): the backend's copy then serves the
   * historic reads that need them (etcd keeps only its key index in memory).
   * Off for a store without a backend behind it.
   */
  readonly valuesOnDisk?: boolean;
}

const noneLoaded: LoadedValues = new Map();

type BatchWriter = BackendOp[];

/** The request ids a batch applies, written as one dedup record keyed by the seq of the first. */
interface DedupBlock {
  readonly seq: number;
  readonly ids: { requestId: number; revision: number }[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The MVCC key-value state machine with etcd's data model. Pure: it holds
 * the key index (every retained version) in memory, applies committed
 * entries deterministically, and hands back what the backend must write.
 *
 * Invariants: compactedRevision <= revision; appliedIndex only grows, by one
 * entry at a time; the backend, after each batch's write, restores to an
 * identical store (`restore`).
 */
export class MvccStore {
  private index = new KeyIndex();
  /** Changed in place: a copy per change was three objects per write. It never leaves the store (encodeMeta copies it out). */
  private meta: Mutable<StoreMeta> = { appliedIndex: 0, revision: 1, compactedRevision: 0, nextDedupSeq: 1 };
  /** request id → revision it was applied at, for the last `dedupWindowRequests` ids. */
  private readonly dedup: DedupWindow;
  /** Dedup records a restore found with no id left in the window; the next batch deletes them. */
  private readonly staleDedupRecords: Uint8Array[] = [];
  private readonly valuesOnDisk: boolean;
  /**
   * Superseded versions still holding their values, oldest first, and the
   * revision that superseded each: once the backend holds that revision,
   * the version's own record is written and its value may go.
   */
  private releasable: Version[] = [];
  private releasableBy: number[] = [];

  constructor(
    readonly limits: KvLimits = DEFAULT_KV_LIMITS,
    options: MvccStoreOptions = {},
  ) {
    this.valuesOnDisk = options.valuesOnDisk ?? false;
    this.dedup = new DedupWindow(limits.dedupWindowRequests);
  }

  /**
   * Rebuilds a store from every backend record (in key order, as
   * KvBackend.records yields them). With `valuesOnDisk`, only each key's
   * latest value is kept in memory: the records are where the others are.
   */
  static async restore(
    records: AsyncIterable<readonly [Uint8Array, Uint8Array]>,
    limits: KvLimits = DEFAULT_KV_LIMITS,
    options: MvccStoreOptions = {},
  ): Promise<MvccStore> {
    const store = new MvccStore(limits, options);
    const histories = new Map<string, KeyHistory>();
    let decoded: { key: Uint8Array; version: Version }[] = [];
    const keep = (): void => {
      keepRestored(decoded, histories, store.valuesOnDisk);
      decoded = [];
    };
    for await (const [key, value] of records) {
      if (key[0] === RECORD_PREFIX.meta) store.meta = decodeMeta(value);
      else if (key[0] === RECORD_PREFIX.dedup) {
        const { block, ids } = decodeDedup(key, value);
        ids.forEach(({ requestId, revision }, i) => {
          const evicted = store.dedup.add(requestId, { seq: block + i, revision, block });
          // Left over from a larger window: deleted with the next batch.
          if (evicted !== undefined && store.recordEmptied(evicted, block))
            store.staleDedupRecords.push(dedupKey(evicted.block));
        });
      } else {
        decoded.push(decodeVersion(key, value));
        if (decoded.length === restoreBatch) keep();
      }
    }
    keep();
    if (store.valuesOnDisk) packLatestValues(histories.values());
    store.index = KeyIndex.fromHistories([...histories.values()]);
    return store;
  }

  get revision(): number {
    return this.meta.revision;
  }

  get compactedRevision(): number {
    return this.meta.compactedRevision;
  }

  get appliedIndex(): number {
    return this.meta.appliedIndex;
  }

  /**
   * A read at the request's revision: COMPACTED below the compacted
   * revision, FUTURE_REV above the current one. A read of an older revision
   * may throw ValuesOnDisk: read those versions' records and call again with
   * their values in `loaded` (DurableKv.range does).
   */
  range(request: RangeRequest, loaded: LoadedValues = noneLoaded): RangeResponse {
    return readRange(this.view(loaded), request);
  }

  /**
   * Lets go of the values of the versions superseded at or before
   * `revision`, which the backend now holds (their records, and the
   * superseding ones, are written). A no-op unless `valuesOnDisk`.
   */
  releaseWrittenThrough(revision: number): void {
    let count = 0;
    while (count < this.releasableBy.length && this.releasableBy[count]! <= revision) count += 1;
    if (count === 0) return;
    for (const version of this.releasable.splice(0, count)) version.kv = onDisk;
    this.releasableBy.splice(0, count);
  }

  /**
   * Applies committed entries, which must continue exactly after the applied
   * index. The returned writes hold the whole batch and the new applied
   * index: written atomically, a restart resumes exactly after this batch.
   */
  applyEntries(entries: readonly Entry[], loaded: LoadedValues = noneLoaded): AppliedBatch {
    const writes: BatchWriter = [];
    const results: ApplyResult[] = [];
    for (const key of this.staleDedupRecords.splice(0)) writes.push({ type: 'del', key });
    const block: DedupBlock = { seq: this.meta.nextDedupSeq, ids: [] };
    let valuesOnDisk: readonly Version[] | undefined;
    for (const entry of entries) {
      // The text only on failure: this runs for every entry.
      if (entry.index !== this.meta.appliedIndex + 1) {
        assert(false, `entry ${entry.index} follows applied ${this.meta.appliedIndex}`);
      }
      this.meta.appliedIndex = entry.index;
      if (entry.kind !== 'normal') continue;
      try {
        results.push(this.applyEntry(entry, writes, block, loaded));
      } catch (error) {
        if (!(error instanceof ValuesOnDisk)) throw error;
        // Nothing of this entry was recorded: it is applied again once its values are loaded.
        this.meta.appliedIndex = entry.index - 1;
        valuesOnDisk = error.versions;
        break;
      }
    }
    // The batch's request ids in one record: a put and a delete per write cost LevelDB as much as the write.
    if (block.ids.length > 0) writes.push({ type: 'put', key: dedupKey(block.seq), value: encodeDedup(block.ids) });
    writes.push({ type: 'put', key: META_KEY, value: encodeMeta(this.meta) });
    return valuesOnDisk === undefined ? { results, writes } : { results, writes, valuesOnDisk };
  }

  private applyEntry(entry: Entry, writes: BatchWriter, block: DedupBlock, loaded: LoadedValues): ApplyResult {
    let requestId = 0;
    try {
      checkRequestSize(entry.data.length, this.limits);
      const decoded = decodeCommand(entry.data);
      requestId = decoded.requestId;
      const seen = requestId === 0 ? undefined : this.dedup.get(requestId);
      if (seen !== undefined)
        return this.result(entry, requestId, { status: 'duplicate', revision: seen.revision }, []);
      validateCommand(decoded.command, this.limits);
      const { response, events } = this.execute(decoded.command, writes, loaded);
      this.remember(requestId, writes, block);
      return this.result(entry, requestId, { status: 'ok', response }, events);
    } catch (error) {
      if (!(error instanceof WeftError)) throw error;
      this.remember(requestId, writes, block);
      return this.result(entry, requestId, { status: 'error', error }, []);
    }
  }

  private result(entry: Entry, requestId: number, outcome: ApplyOutcome, events: readonly Event[]): ApplyResult {
    return { index: entry.index, requestId, revision: this.meta.revision, outcome, events };
  }

  private execute(
    command: Command,
    writes: BatchWriter,
    loaded: LoadedValues,
  ): { response: CommandResponse; events: readonly Event[] } {
    if (command.op === 'compact') {
      this.compact(command.request.revision, writes);
      return { response: { type: 'compact' }, events: [] };
    }
    const txn = new WriteTxn(this.view(loaded));
    const response: CommandResponse =
      command.op === 'put'
        ? { type: 'put', response: txn.put(command.request) }
        : command.op === 'deleteRange'
          ? { type: 'deleteRange', response: txn.deleteRange(command.request) }
          : { type: 'txn', response: txn.txn(command.request) };
    this.commit(txn, writes);
    return { response, events: txn.events };
  }

  /** Moves a finished transaction's changes into the index and the batch; one revision for all of them. */
  private commit(txn: WriteTxn, writes: BatchWriter): void {
    if (txn.changes.length === 0) return;
    const main = txn.newRevision;
    for (const [sub, change] of txn.changes.entries()) {
      const version: Version = { main, sub, kv: change.kv };
      const superseded = this.index.add(change.key, version);
      if (this.valuesOnDisk && typeof superseded?.kv === 'object') {
        this.releasable.push(superseded);
        this.releasableBy.push(main);
      }
      writes.push({ type: 'put', key: revisionKey(main, sub), value: encodeVersion(change.key, change.kv) });
    }
    this.meta.revision = main;
  }

  /**
   * Drops every version not visible at `revision` or later: per key, the
   * versions before the one visible at `revision`, and that one too if it
   * is a tombstone (etcd's compaction). Does not change the revision.
   */
  private compact(revision: number, writes: BatchWriter): void {
    if (revision <= this.meta.compactedRevision) {
      throw new WeftError(
        'COMPACTED',
        `mvcc: required revision has been compacted (already compacted at ${this.meta.compactedRevision})`,
      );
    }
    if (revision > this.meta.revision) {
      throw new WeftError(
        'FUTURE_REV',
        `mvcc: required revision is a future revision (${revision} > current ${this.meta.revision})`,
      );
    }
    for (const history of this.index.all()) {
      const versions = history.versions;
      let visible = -1;
      while (visible + 1 < versions.length && versions[visible + 1]!.main <= revision) visible += 1;
      const drop = visible >= 0 && versions[visible]!.kv === undefined ? visible + 1 : visible;
      for (const version of versions.splice(0, Math.max(drop, 0))) {
        writes.push({ type: 'del', key: revisionKey(version.main, version.sub) });
      }
    }
    this.index.removeEmpty();
    this.meta.compactedRevision = revision;
  }

  /**
   * Records an applied request id in the window and in this batch's dedup
   * record; the oldest id falls out of the bounded window, and the record
   * it came in with is deleted once none of its ids is left.
   */
  private remember(requestId: number, writes: BatchWriter, block: DedupBlock): void {
    if (requestId === 0) return;
    const seq = this.meta.nextDedupSeq;
    this.meta.nextDedupSeq = seq + 1;
    block.ids.push({ requestId, revision: this.meta.revision });
    const evicted = this.dedup.add(requestId, { seq, revision: this.meta.revision, block: block.seq });
    if (evicted !== undefined && this.recordEmptied(evicted, block.seq)) {
      writes.push({ type: 'del', key: dedupKey(evicted.block) });
    }
  }

  /**
   * Whether the record `evicted` came in holds no id of the window any more:
   * ids leave in order, so it does when the next to leave came in another
   * record. The record being built (`currentBlock`) is never empty: its
   * last id is in the window.
   */
  private recordEmptied(evicted: Remembered, currentBlock: number): boolean {
    return evicted.block !== currentBlock && this.dedup.oldest()?.block !== evicted.block;
  }

  private view(loaded: LoadedValues): StoreView {
    const { revision, compactedRevision } = this.meta;
    return { index: this.index, revision, compactedRevision, loaded };
  }
}

/** A full scan's revision records are decoded this many at a time, and their values copied together. */
const restoreBatch = 1024;
const noBytes = new Uint8Array(0);

/**
 * Adds decoded versions (views of backend records) to their histories.
 * Every version of a key shares its history's key, as in the live store
 * (WriteTxn.put), and the values are copied into shared buffers
 * (packCopies), as the log's entries are: a copy of each key and each value
 * would cost two ArrayBuffers per version (about 800 bytes a version of a
 * 256-byte value against 510, bench/store-memory.ts), and the garbage
 * collector sweeps every ArrayBuffer.
 */
function keepRestored(
  decoded: readonly { key: Uint8Array; version: Version }[],
  histories: Map<string, KeyHistory>,
  valuesOnDisk: boolean,
): void {
  // With values on disk most are let go at once; the kept ones are packed at the end (packLatestValues).
  const values = valuesOnDisk ? undefined : packCopies(decoded.map(({ version }) => kvOf(version)?.value ?? noBytes));
  decoded.forEach(({ key, version }, i) => {
    const name = bytesKey(key);
    let history = histories.get(name);
    if (history === undefined) {
      history = { key: key.slice(), versions: [] };
      histories.set(name, history);
    }
    const previous = history.versions.at(-1);
    if (valuesOnDisk && previous !== undefined && previous.kv !== undefined) previous.kv = onDisk;
    const { main, sub } = version;
    const kv = kvOf(version);
    if (kv === undefined) history.versions.push(version);
    else {
      // Literals in the live store's property order, so both share V8 shapes.
      const { createRevision, modRevision, version: count, lease } = kv;
      const value = values?.[i] ?? kv.value;
      const restored = { key: history.key, createRevision, modRevision, version: count, value, lease };
      history.versions.push({ main, sub, kv: restored });
    }
  });
}

/** Copies each key's latest value into shared buffers, so the views of backend records it held can go. */
function packLatestValues(histories: Iterable<KeyHistory>): void {
  const kept = [...histories].flatMap((history) => {
    const version = history.versions.at(-1);
    return version !== undefined && typeof version.kv === 'object' ? [version] : [];
  });
  const values = packCopies(kept.map((version) => kvOf(version)!.value));
  kept.forEach((version, i) => {
    version.kv = { ...kvOf(version)!, value: values[i]! };
  });
}

/** A version's kv; asserts it has not been let go (a restore decodes every value). */
function kvOf(version: Version): KeyValue | undefined {
  assert(version.kv !== onDisk, 'a decoded version holds its value');
  return version.kv;
}
