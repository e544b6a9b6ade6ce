import { BinaryReader, BinaryWriter } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import type { Version } from './key-index.ts';
import type { KeyValue } from './types.ts';

/**
 * How the MVCC store reaches durable storage (src/storage/level-backend.ts
 * implements it with LevelDB; MemoryBackend for tests). The store is pure:
 * it computes a BackendBatch per applied batch of entries, and the driver
 * writes it in one atomic write.
 *
 * Record layout (keys sort so that a full scan restores in order):
 *   'd' u64 BE seq           → (request id, revision) of each id one batch applied, the first at seq (de-duplication window)
 *   'm'                      → format, applied index, revision, compacted revision, next dedup seq
 *   'r' u64 BE main, u32 BE sub → key change: flags (1 = tombstone), key, [create, version, lease, value]
 */
export type BackendOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

/** Operations in order: a later one wins over an earlier one on the same key (a compaction may delete a record put earlier in the batch). */
export type BackendBatch = readonly BackendOp[];

export interface KvBackend {
  /**
   * Every record, in key order, as of the call: writes made after it are
   * not seen, so a snapshot can be written while the store moves on.
   */
  records(): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
  /** The values of these records (undefined where there is none), as written by every write that has resolved. */
  read(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** Applies the whole batch atomically; `sync` makes it (and everything before it) durable. */
  write(batch: BackendBatch, options: { readonly sync: boolean }): Promise<void>;
  /** Replaces every record with `records` (installing a snapshot), atomically. */
  replaceAll(records: AsyncIterable<readonly [Uint8Array, Uint8Array]>): Promise<void>;
  close(): Promise<void>;
}

export const RECORD_PREFIX = { dedup: 0x64, meta: 0x6d, revision: 0x72 } as const;
export const META_KEY = new Uint8Array([RECORD_PREFIX.meta]);
/**
 * 2: revisions start at 1, as etcd's (a new store is at revision 1). Format 1
 * numbered them from 0, so a member on a format-1 store and one that built its
 * store anew would disagree on every revision: a format-1 store is refused.
 */
const META_FORMAT = 2;

export interface StoreMeta {
  readonly appliedIndex: number;
  readonly revision: number;
  readonly compactedRevision: number;
  readonly nextDedupSeq: number;
}

/** Writes a safe integer as 8 bytes, big-endian (byte by byte: a DataView over a small array moves it out of V8's heap). */
function u64(bytes: Uint8Array, offset: number, value: number): void {
  let high = Math.floor(value / 0x100000000);
  let low = value >>> 0;
  for (let i = 7; i >= 4; i -= 1) {
    bytes[offset + i] = low & 0xff;
    low >>>= 8;
  }
  for (let i = 3; i >= 0; i -= 1) {
    bytes[offset + i] = high & 0xff;
    high >>>= 8;
  }
}

/** Reads what u64 wrote. */
function readU64(bytes: Uint8Array, offset: number): number {
  let value = 0;
  for (let i = 0; i < 8; i += 1) value = value * 0x100 + bytes[offset + i]!;
  return value;
}

export function revisionKey(main: number, sub: number): Uint8Array {
  const key = new Uint8Array(13);
  key[0] = RECORD_PREFIX.revision;
  u64(key, 1, main);
  key[9] = sub >>> 24;
  key[10] = (sub >>> 16) & 0xff;
  key[11] = (sub >>> 8) & 0xff;
  key[12] = sub & 0xff;
  return key;
}

export function dedupKey(seq: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = RECORD_PREFIX.dedup;
  u64(key, 1, seq);
  return key;
}

export function parseRevisionKey(key: Uint8Array): { main: number; sub: number } {
  if (key.length !== 13) new BinaryReader(key, 'KV revision key').fail(`length ${key.length} is not 13`);
  const sub = ((key[9]! << 24) | (key[10]! << 16) | (key[11]! << 8) | key[12]!) >>> 0;
  return { main: readU64(key, 1), sub };
}

/** A version's record: `kv` undefined for a tombstone. */
export function encodeVersion(key: Uint8Array, kv: KeyValue | undefined): Uint8Array {
  const sizeHint = 32 + key.length + (kv?.value.length ?? 0);
  const writer = new BinaryWriter(sizeHint).u8(kv === undefined ? 1 : 0).bytes(key);
  if (kv !== undefined) writer.uvarint(kv.createRevision).uvarint(kv.version).uvarint(kv.lease).bytes(kv.value);
  return writer.finish();
}

/** The key and the value are views of `payload`: a caller that keeps them copies them (MvccStore.restore packs them). */
export function decodeVersion(recordKey: Uint8Array, payload: Uint8Array): { key: Uint8Array; version: Version } {
  const { main, sub } = parseRevisionKey(recordKey);
  const reader = new BinaryReader(payload, 'KV revision record');
  const tombstone = reader.bool();
  const key = reader.bytesView();
  if (tombstone) {
    reader.end();
    return { key, version: { main, sub, kv: undefined } };
  }
  const createRevision = reader.uvarint();
  const version = reader.uvarint();
  const lease = reader.uvarint();
  const value = reader.bytesView();
  reader.end();
  return { key, version: { main, sub, kv: { key, createRevision, modRevision: main, version, value, lease } } };
}

export function encodeMeta(meta: StoreMeta): Uint8Array {
  return new BinaryWriter(40)
    .u8(META_FORMAT)
    .uvarint(meta.appliedIndex)
    .uvarint(meta.revision)
    .uvarint(meta.compactedRevision)
    .uvarint(meta.nextDedupSeq)
    .finish();
}

export function decodeMeta(payload: Uint8Array): StoreMeta {
  const reader = new BinaryReader(payload, 'KV meta record');
  const format = reader.u8();
  if (format === 1) {
    throw new WeftError(
      'BACKEND_MISMATCH',
      'this KV store was written by an older weft, which numbered revisions from 0 (weft now starts at 1, as etcd); ' +
        'its revisions would disagree with any member that rebuilds its store: give this member a new data directory and add it to the cluster again, or start a new cluster',
    );
  }
  if (format !== META_FORMAT) reader.fail(`format ${format} is not ${META_FORMAT}`);
  const meta = {
    appliedIndex: reader.uvarint(),
    revision: reader.uvarint(),
    compactedRevision: reader.uvarint(),
    nextDedupSeq: reader.uvarint(),
  };
  reader.end();
  return meta;
}

/** A dedup record: the (request id, revision) of each id a batch applied, in order. */
export function encodeDedup(ids: readonly { requestId: number; revision: number }[]): Uint8Array {
  const writer = new BinaryWriter(4 + ids.length * 12);
  for (const { requestId, revision } of ids) writer.uvarint(requestId).uvarint(revision);
  return writer.finish();
}

/**
 * A dedup record: `block` is the seq of its first id (the next ones follow
 * it). A record of one id is what the store wrote before it wrote a record
 * per batch, so older stores read the same way.
 */
export function decodeDedup(
  recordKey: Uint8Array,
  payload: Uint8Array,
): { block: number; ids: { requestId: number; revision: number }[] } {
  if (recordKey.length !== 9) new BinaryReader(recordKey, 'KV dedup key').fail(`length ${recordKey.length} is not 9`);
  const reader = new BinaryReader(payload, 'KV dedup record');
  const ids: { requestId: number; revision: number }[] = [];
  do ids.push({ requestId: reader.uvarint(), revision: reader.uvarint() });
  while (reader.remaining > 0);
  return { block: readU64(recordKey, 1), ids };
}
