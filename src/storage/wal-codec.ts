import { BinaryReader, BinaryWriter } from '../core/binary.ts';
import type { ConfState, Entry, EntryKind, HardState, SnapshotMeta } from '../raft/types.ts';
import { frameRecordAt, RECORD_HEADER_BYTES, RecordType } from './wal-record.ts';

/**
 * Payload encodings of the WAL's record types (wal-record.ts frames them).
 * Integers are unsigned varints; text is length-prefixed UTF-8.
 *
 *   entry          term, index, kind (0 normal, 1 noop, 2 config), data (the rest of the payload)
 *   hard state     term, vote (text), commit
 *   snapshot       index, term, voter count, voters…, learner count, learners…
 *   segment header format version (1), sequence, first index, hard state, has-snapshot (0/1), [snapshot]
 */
export const WAL_FORMAT_VERSION = 1;

const kinds: readonly EntryKind[] = ['normal', 'noop', 'config'];

/** The size of an entry's record payload (the record adds RECORD_HEADER_BYTES). */
export function entryPayloadBytes(entry: Entry): number {
  return varintBytes(entry.term) + varintBytes(entry.index) + 1 + entry.data.length;
}

/** The entries' records back to back in one buffer: one allocation, and one buffer for the disk write. */
export function encodeEntryRecords(entries: readonly Entry[]): Uint8Array {
  const sizes = entries.map(entryPayloadBytes);
  const records = new Uint8Array(sizes.reduce((sum, size) => sum + RECORD_HEADER_BYTES + size, 0));
  let offset = 0;
  entries.forEach((entry, i) => {
    offset = frameRecordAt(records, offset, RecordType.entry, sizes[i]!, (record, start) => {
      let at = putVarint(record, start, entry.term);
      at = putVarint(record, at, entry.index);
      record[at] = kinds.indexOf(entry.kind);
      record.set(entry.data, at + 1);
    });
  });
  return records;
}

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** Writes `value` as an unsigned LEB128 varint at `offset` (as BinaryWriter.uvarint); returns the offset after it. */
function putVarint(bytes: Uint8Array, offset: number, value: number): number {
  let rest = value;
  let at = offset;
  while (rest >= 0x80) {
    bytes[at++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  bytes[at++] = rest;
  return at;
}

/** The entry's data is a view of `payload`: a caller that keeps it copies it (replay packs them, LogMirror.ownData). */
export function decodeEntry(payload: Uint8Array): Entry {
  const reader = new BinaryReader(payload, 'WAL entry');
  const term = reader.uvarint();
  const index = reader.uvarint();
  const kindByte = reader.u8();
  const kind = kinds[kindByte] ?? reader.fail(`unknown entry kind ${kindByte}`);
  return { term, index, kind, data: reader.restView() };
}

function writeHardState(writer: BinaryWriter, state: HardState): void {
  writer.uvarint(state.term).string(state.vote).uvarint(state.commit);
}

function readHardState(reader: BinaryReader): HardState {
  return { term: reader.uvarint(), vote: reader.string(), commit: reader.uvarint() };
}

function writeSnapshot(writer: BinaryWriter, meta: SnapshotMeta): void {
  writer.uvarint(meta.index).uvarint(meta.term);
  for (const list of [meta.conf.voters, meta.conf.learners]) {
    writer.uvarint(list.length);
    for (const id of list) writer.string(id);
  }
}

function readSnapshot(reader: BinaryReader): SnapshotMeta {
  const index = reader.uvarint();
  const term = reader.uvarint();
  const readIds = (): string[] => Array.from({ length: reader.uvarint() }, () => reader.string());
  const conf: ConfState = { voters: readIds(), learners: readIds() };
  return { index, term, conf };
}

export function encodeHardState(state: HardState): Uint8Array {
  const writer = new BinaryWriter();
  writeHardState(writer, state);
  return writer.finish();
}

export function decodeHardState(payload: Uint8Array): HardState {
  const reader = new BinaryReader(payload, 'WAL hard state');
  const state = readHardState(reader);
  reader.end();
  return state;
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  const writer = new BinaryWriter();
  writeSnapshot(writer, meta);
  return writer.finish();
}

export function decodeSnapshotMeta(payload: Uint8Array, what = 'WAL snapshot marker'): SnapshotMeta {
  const reader = new BinaryReader(payload, what);
  const meta = readSnapshot(reader);
  reader.end();
  return meta;
}

/** What a new segment carries over, so older segments can be deleted without losing state. */
export interface SegmentHeader {
  readonly sequence: number;
  /** Index the next entry appended after this header is expected to have (last index + 1 when created). */
  readonly firstIndex: number;
  readonly hardState: HardState;
  readonly snapshot: SnapshotMeta | undefined;
}

export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  const writer = new BinaryWriter().u8(WAL_FORMAT_VERSION).uvarint(header.sequence).uvarint(header.firstIndex);
  writeHardState(writer, header.hardState);
  writer.bool(header.snapshot !== undefined);
  if (header.snapshot !== undefined) writeSnapshot(writer, header.snapshot);
  return writer.finish();
}

export function decodeSegmentHeader(payload: Uint8Array): SegmentHeader {
  const reader = new BinaryReader(payload, 'WAL segment header');
  const version = reader.u8();
  if (version !== WAL_FORMAT_VERSION) {
    reader.fail(
      `format version ${version} is not ${WAL_FORMAT_VERSION}; this segment was written by another weft version`,
    );
  }
  const sequence = reader.uvarint();
  const firstIndex = reader.uvarint();
  const hardState = readHardState(reader);
  const snapshot = reader.bool() ? readSnapshot(reader) : undefined;
  reader.end();
  return { sequence, firstIndex, hardState, snapshot };
}
