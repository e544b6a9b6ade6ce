import { readFile } from 'node:fs/promises';
import { describeError } from '../core/errors.ts';
import { LogMirror } from './log-mirror.ts';
import { decodeEntry, decodeHardState, decodeSegmentHeader, decodeSnapshotMeta } from './wal-codec.ts';
import type { SegmentFile } from './wal-files.ts';
import { readRecord, RecordType, validRecordAfter, type RecordView } from './wal-record.ts';

/**
 * Reads every segment in order into a LogMirror and stops at the first
 * damage. It changes nothing on disk: opening (wal.ts) and repairing
 * (wal-repair.ts) decide what to do with what it found.
 */
export interface Damage {
  readonly segment: SegmentFile;
  /** Byte offset of the first bad record: everything before it is good. */
  readonly offset: number;
  readonly reason: string;
  /**
   * True when this is a torn write: the bad record is in the last segment
   * and no valid record follows it, so it was never acknowledged.
   */
  readonly torn: boolean;
}

export interface ScanResult {
  readonly mirror: LogMirror;
  /** The segments that hold good records, in order (those after a damage are excluded). */
  readonly segments: readonly SegmentFile[];
  /** Good bytes of the last good segment: where the next append goes. */
  readonly tailBytes: number;
  readonly damage: Damage | undefined;
}

export async function scanSegments(segments: readonly SegmentFile[], maxRecordBytes: number): Promise<ScanResult> {
  const mirror = new LogMirror();
  const good: SegmentFile[] = [];
  let tailBytes = 0;
  for (const [position, segment] of segments.entries()) {
    const isLast = position === segments.length - 1;
    const previous = segments[position - 1];
    if (previous !== undefined && segment.sequence !== previous.sequence + 1) {
      const reason = `segment ${previous.sequence + 1} is missing (found ${segment.sequence} after ${previous.sequence})`;
      return { mirror, segments: good, tailBytes, damage: { segment, offset: 0, reason, torn: false } };
    }
    const bytes = await readFile(segment.path);
    const stop = replaySegment(bytes, segment, mirror, maxRecordBytes);
    mirror.ownData(bytes.buffer); // the entries were decoded as views of the segment
    if (stop !== undefined) {
      // Only a bad frame can be torn: a record whose checksum holds but whose content is wrong was written whole.
      const torn =
        isLast &&
        stop.badFrame &&
        stop.offset > 0 &&
        validRecordAfter(bytes, stop.offset, maxRecordBytes) === undefined;
      if (stop.offset > 0) good.push(segment);
      const damage = { segment, offset: stop.offset, reason: stop.reason, torn };
      return { mirror, segments: good, tailBytes: stop.offset, damage };
    }
    good.push(segment);
    tailBytes = bytes.length;
  }
  return { mirror, segments: good, tailBytes, damage: undefined };
}

/** Applies a segment's records to the mirror; returns where and why it stopped early, if it did. */
function replaySegment(
  bytes: Uint8Array,
  segment: SegmentFile,
  mirror: LogMirror,
  maxRecordBytes: number,
): { offset: number; reason: string; badFrame: boolean } | undefined {
  let offset = 0;
  while (offset < bytes.length) {
    const read = readRecord(bytes, offset, maxRecordBytes);
    if (!read.ok) return { offset, reason: read.reason, badFrame: true };
    try {
      applyRecord(read.record, segment, mirror);
    } catch (error) {
      return { offset, reason: describeError(error), badFrame: false };
    }
    offset = read.record.end;
  }
  return offset === 0 ? { offset: 0, reason: 'empty segment (no header)', badFrame: true } : undefined;
}

function applyRecord(record: RecordView, segment: SegmentFile, mirror: LogMirror): void {
  const isFirst = record.offset === 0;
  if (isFirst !== (record.type === RecordType.segmentHeader)) {
    throw new Error(isFirst ? 'segment does not start with a header' : 'segment header in the middle of a segment');
  }
  switch (record.type) {
    case RecordType.segmentHeader: {
      const header = decodeSegmentHeader(record.payload);
      if (header.sequence !== segment.sequence) {
        throw new Error(`header says sequence ${header.sequence}, the file name says ${segment.sequence}`);
      }
      mirror.applyHardState(header.hardState);
      if (header.snapshot !== undefined) mirror.applySnapshot(header.snapshot);
      return;
    }
    case RecordType.entry:
      mirror.applyEntries([decodeEntry(record.payload)]);
      return;
    case RecordType.hardState:
      mirror.applyHardState(decodeHardState(record.payload));
      return;
    case RecordType.snapshotMarker:
      mirror.applySnapshot(decodeSnapshotMeta(record.payload));
      return;
  }
}

/** Indexes of the entry records from `offset` on, skipping over damage: what a truncation there drops. */
export function entryIndexesFrom(bytes: Uint8Array, offset: number, maxRecordBytes: number): number[] {
  const indexes: number[] = [];
  let position: number | undefined = offset;
  while (position !== undefined && position < bytes.length) {
    const read = readRecord(bytes, position, maxRecordBytes);
    if (!read.ok) {
      // A damaged record whose type byte still says "entry" is counted as one (its index unreadable).
      if (bytes[position + 8] === RecordType.entry) indexes.push(Number.NaN);
      position = validRecordAfter(bytes, position, maxRecordBytes);
      continue;
    }
    if (read.record.type === RecordType.entry) {
      indexes.push(decodeEntryIndex(read.record.payload));
    }
    position = read.record.end;
  }
  return indexes;
}

/** The entry's index, or NaN when its payload does not decode (it still counts as one entry dropped). */
function decodeEntryIndex(payload: Uint8Array): number {
  try {
    return decodeEntry(payload).index;
  } catch {
    return Number.NaN;
  }
}
