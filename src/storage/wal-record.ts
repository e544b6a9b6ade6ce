import { crc32c } from '../core/crc32c.ts';

/**
 * WAL record framing. Every record is
 *
 *   offset 0  u32 LE  payload length in bytes (L)
 *   offset 4  u32 LE  CRC-32C of bytes [0, 4) ++ [8, 9 + L): the length, the type and the payload
 *   offset 8  u8      record type (RecordType; 0 is never valid, so zero-filled space never parses)
 *   offset 9  L bytes payload
 *
 * The checksum covers the length, so a flipped length bit is caught as soon
 * as the record it claims is complete.
 */
export const RECORD_HEADER_BYTES = 9;

export const RecordType = {
  /** First record of every segment: format version, sequence number and the state carried over. */
  segmentHeader: 1,
  entry: 2,
  hardState: 3,
  snapshotMarker: 4,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const validTypes: ReadonlySet<number> = new Set(Object.values(RecordType));

export function encodeRecord(type: RecordType, payload: Uint8Array): Uint8Array {
  const record = new Uint8Array(RECORD_HEADER_BYTES + payload.length);
  frameRecordAt(record, 0, type, payload.length, (target, offset) => target.set(payload, offset));
  return record;
}

/**
 * Frames a record at `start` of `target`, which has room for it; `fill`
 * writes the payload in place (no copy, and many records can share one
 * buffer and one write). Returns the offset after the record.
 */
export function frameRecordAt(
  target: Uint8Array,
  start: number,
  type: RecordType,
  payloadBytes: number,
  fill: (record: Uint8Array, offset: number) => void,
): number {
  putU32LE(target, start, payloadBytes);
  target[start + 8] = type;
  fill(target, start + RECORD_HEADER_BYTES);
  putU32LE(target, start + 4, recordChecksum(target, payloadBytes, start));
  return start + RECORD_HEADER_BYTES + payloadBytes;
}

function putU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = value >>> 24;
}

function recordChecksum(bytes: Uint8Array, payloadBytes: number, offset = 0): number {
  const start = bytes.byteOffset + offset;
  const lengthCrc = crc32c(new Uint8Array(bytes.buffer, start, 4));
  return crc32c(new Uint8Array(bytes.buffer, start + 8, 1 + payloadBytes), lengthCrc);
}

export interface RecordView {
  readonly type: RecordType;
  readonly payload: Uint8Array;
  /** Byte offset of the record's header in its segment. */
  readonly offset: number;
  /** Byte offset just past the record. */
  readonly end: number;
}

/** Why reading stopped before the end of a segment. */
export type BadRecordReason = 'short header' | 'length runs past end of file' | 'checksum mismatch' | 'unknown type';

export type ReadResult =
  { readonly ok: true; readonly record: RecordView } | { readonly ok: false; readonly reason: BadRecordReason };

/** Reads the record at `offset`; `maxPayloadBytes` bounds what a length field may claim. */
export function readRecord(bytes: Uint8Array, offset: number, maxPayloadBytes: number): ReadResult {
  if (bytes.length - offset < RECORD_HEADER_BYTES) return { ok: false, reason: 'short header' };
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, RECORD_HEADER_BYTES);
  const payloadBytes = view.getUint32(0, true);
  if (payloadBytes > maxPayloadBytes || payloadBytes > bytes.length - offset - RECORD_HEADER_BYTES) {
    return { ok: false, reason: 'length runs past end of file' };
  }
  const type = bytes[offset + 8]!;
  if (view.getUint32(4, true) !== recordChecksum(bytes, payloadBytes, offset)) {
    return { ok: false, reason: 'checksum mismatch' };
  }
  if (!validTypes.has(type)) return { ok: false, reason: 'unknown type' };
  const end = offset + RECORD_HEADER_BYTES + payloadBytes;
  return {
    ok: true,
    record: { type: type as RecordType, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, end), offset, end },
  };
}

/**
 * True if a complete, valid record starts anywhere after `offset`. Used to
 * tell a torn tail (nothing valid follows the bad record: the write was cut
 * short) from corruption in the middle (valid records follow: acknowledged
 * data would be lost by truncating). Cheap in the torn case, where the tail
 * is short; in the corrupt case it stops at the first valid record.
 */
export function validRecordAfter(bytes: Uint8Array, offset: number, maxPayloadBytes: number): number | undefined {
  for (let candidate = offset + 1; candidate + RECORD_HEADER_BYTES <= bytes.length; candidate += 1) {
    if (!validTypes.has(bytes[candidate + 8]!)) continue;
    if (readRecord(bytes, candidate, maxPayloadBytes).ok) return candidate;
  }
  return undefined;
}
