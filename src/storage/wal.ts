import { constants } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assert } from '../core/assert.ts';
import { describeError, WeftError } from '../core/errors.ts';
import type { SnapshotMeta } from '../raft/types.ts';
import { syncDirectory, truncateDurably, writeFileAtomically, writeFullyV } from './fs-sync.ts';
import type { LogMirror } from './log-mirror.ts';
import type { LogState, LogStorage, LogUpdate } from './log-storage.ts';
import {
  encodeEntryRecords,
  encodeHardState,
  encodeSegmentHeader,
  encodeSnapshotMeta,
  entryPayloadBytes,
} from './wal-codec.ts';
import { listSegments, segmentFileName, WAL_DIR_NAME, type SegmentFile } from './wal-files.ts';
import { encodeRecord, RecordType } from './wal-record.ts';
import { scanSegments, type Damage } from './wal-scan.ts';

/** 'fdatasync': an append resolves once its bytes are on stable storage. 'none': once written (tests and benchmarks only). */
export type WalSync = 'fdatasync' | 'none';

/** Limits and modes of the WAL; docs/LIMITS.md lists the defaults. */
export interface WalOptions {
  /** The node's data directory; segments live in `<dataDir>/wal/`. */
  readonly dataDir: string;
  /** A segment is rolled before a batch that would take it past this size. @default 64 MiB */
  readonly segmentSizeBytes?: number;
  /** Largest record payload (one entry); larger appends are ENTRY_TOO_LARGE. @default 16 MiB */
  readonly maxRecordBytes?: number;
  /** Bytes waiting for the disk beyond which `append` is rejected with QUEUE_FULL. @default 64 MiB */
  readonly maxQueuedBytes?: number;
  /** 'fdatasync' (the default) acknowledges only synced bytes; 'none' is for tests and benchmarks only. */
  readonly sync?: WalSync;
  /** Waits this long after every batch is written, as a slower disk would: benchmarks only. @default 0 */
  readonly addedLatencyMs?: number;
  /** Where recovery warnings go (torn tail truncated, sync off). */
  readonly onWarning?: (message: string, details: Record<string, unknown>) => void;
}

export const WAL_DEFAULTS = {
  segmentSizeBytes: 64 * 1024 * 1024,
  maxRecordBytes: 16 * 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
} as const;

/** Counters for tests and metrics: `syncs < appends` under concurrency is group commit at work. */
export interface WalStats {
  appends: number;
  batches: number;
  syncs: number;
  bytesWritten: number;
}

interface Pending {
  readonly records: readonly Uint8Array[];
  readonly bytes: number;
  /** Applies the request to the mirror once its bytes are durable. */
  readonly apply: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Tail {
  handle: FileHandle;
  segment: SegmentFile;
  bytes: number;
}

/**
 * The write-ahead log: one ordered stream of records (entries, hard states,
 * snapshot markers) over numbered segment files, with group commit: appends
 * that arrive while a sync is in flight are written and synced together by
 * the next one, and each resolves only once its bytes are synced.
 *
 * Invariant: `mirror` holds exactly what is durable; `queuedLastIndex` is the
 * last index once everything queued is durable (appends validate against it).
 */
export class Wal implements LogStorage {
  readonly stats: WalStats = { appends: 0, batches: 0, syncs: 0, bytesWritten: 0 };
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private flushing = false;
  private drained: Promise<void> = Promise.resolve();
  private failure: WeftError | undefined;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly options: Required<Omit<WalOptions, 'onWarning'>>,
    private readonly mirror: LogMirror,
    private segments: SegmentFile[],
    private tail: Tail,
    private queuedLastIndex: number,
  ) {}

  /** Opens (or creates) the WAL, recovering what is on disk; see docs/storage.md "Recovery". */
  static async open(options: WalOptions): Promise<Wal> {
    const resolved = {
      dataDir: options.dataDir,
      segmentSizeBytes: options.segmentSizeBytes ?? WAL_DEFAULTS.segmentSizeBytes,
      maxRecordBytes: options.maxRecordBytes ?? WAL_DEFAULTS.maxRecordBytes,
      maxQueuedBytes: options.maxQueuedBytes ?? WAL_DEFAULTS.maxQueuedBytes,
      sync: options.sync ?? 'fdatasync',
      addedLatencyMs: options.addedLatencyMs ?? 0,
    };
    const warn = options.onWarning ?? (() => undefined);
    if (resolved.sync === 'none') {
      warn(
        'WAL SYNC IS OFF (sync: none): acknowledged writes are lost on an OS crash or power loss; tests and benchmarks only',
        {},
      );
    }
    if (resolved.addedLatencyMs > 0) {
      warn('WAL writes are slowed on purpose (added latency): benchmarks only', { ms: resolved.addedLatencyMs });
    }
    const dir = join(resolved.dataDir, WAL_DIR_NAME);
    await mkdir(dir, { recursive: true });
    const scan = await scanSegments(await listSegments(dir), resolved.maxRecordBytes);
    if (scan.damage !== undefined) await handleDamage(scan.damage, resolved.dataDir, warn);
    checkConsistent(scan.mirror, resolved.dataDir);
    const segments = [...scan.segments];
    const last = segments.at(-1);
    const tail =
      last === undefined
        ? await createSegment(dir, 1, scan.mirror, resolved.sync)
        : { handle: await openTail(last.path, resolved.sync), segment: last, bytes: scan.tailBytes };
    if (last === undefined) segments.push(tail.segment);
    return new Wal(dir, resolved, scan.mirror, segments, tail, scan.mirror.lastIndex());
  }

  // async so that a rejected append (limits, a failed WAL) is a rejected promise, never a throw.
  async append(update: LogUpdate): Promise<void> {
    this.mirror.validate(update, this.queuedLastIndex);
    for (const entry of update.entries) this.checkSize(entryPayloadBytes(entry));
    const records = update.entries.length > 0 ? [encodeEntryRecords(update.entries)] : [];
    if (update.hardState !== undefined)
      records.push(encodeRecord(RecordType.hardState, encodeHardState(update.hardState)));
    const last = update.entries.at(-1);
    const durable = this.enqueue(records, () => {
      this.mirror.applyEntries(update.entries);
      if (update.hardState !== undefined) this.mirror.applyHardState(update.hardState);
    });
    if (last !== undefined) this.queuedLastIndex = last.index;
    this.stats.appends += 1;
    return durable;
  }

  async saveSnapshotMarker(meta: SnapshotMeta): Promise<void> {
    assert(meta.index >= this.mirror.snapshotIndex(), 'snapshot markers never go back');
    const durable = this.enqueue([encodeRecord(RecordType.snapshotMarker, encodeSnapshotMeta(meta))], () =>
      this.mirror.applySnapshot(meta),
    );
    this.queuedLastIndex = Math.max(this.queuedLastIndex, meta.index);
    return durable;
  }

  readAll(): LogState {
    return this.mirror.state();
  }

  /** Removes whole segments all of whose live entries are below `index`; never the segment being written. */
  async releaseBefore(index: number): Promise<void> {
    this.checkUsable();
    assert(index <= this.mirror.snapshotIndex() + 1, `release before ${index} keeps the entries after the snapshot`);
    let removed = 0;
    // Segment k holds no live entry at or above segments[k + 1].firstIndex (it was the last index + 1 at the roll).
    while (this.segments.length > 1 && this.segments[1]!.firstIndex <= index) {
      const [oldest] = this.segments.splice(0, 1);
      await rm(oldest!.path);
      removed += 1;
    }
    if (removed > 0) await syncDirectory(this.dir);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.drained;
    await this.tail.handle.close();
  }

  /** Segments currently on disk, oldest first (for tests and `weft repair`). */
  segmentFiles(): readonly SegmentFile[] {
    return this.segments;
  }

  /** Rejects an entry whose payload is over maxRecordBytes: reading it back would call it damage. */
  private checkSize(payloadBytes: number): void {
    if (payloadBytes > this.options.maxRecordBytes) {
      throw new WeftError(
        'ENTRY_TOO_LARGE',
        `a WAL record of ${payloadBytes} bytes is over the ${this.options.maxRecordBytes}-byte limit; split the proposal`,
        { bytes: payloadBytes, limitBytes: this.options.maxRecordBytes },
      );
    }
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new WeftError('WAL_CLOSED', 'the WAL is closed; open it again to write');
  }

  private enqueue(records: Uint8Array[], apply: () => void): Promise<void> {
    this.checkUsable();
    const bytes = records.reduce((sum, record) => sum + record.length, 0);
    if (this.queuedBytes + bytes > this.options.maxQueuedBytes && this.queue.length > 0) {
      throw new WeftError(
        'QUEUE_FULL',
        `${this.queuedBytes} bytes already wait for the disk (limit ${this.options.maxQueuedBytes}); wait for earlier appends`,
        { queuedBytes: this.queuedBytes, limitBytes: this.options.maxQueuedBytes },
      );
    }
    this.queuedBytes += bytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ records, bytes, apply, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // Start on the next microtask so appends made in the same tick share the first sync.
        this.drained = Promise.resolve().then(() => this.flushLoop());
      }
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.writeBatch(batch);
      } catch (error) {
        this.fail(error, batch);
        return;
      }
      for (const pending of batch) {
        this.queuedBytes -= pending.bytes;
        pending.apply();
        pending.resolve();
      }
    }
    this.flushing = false;
  }

  private async writeBatch(batch: readonly Pending[]): Promise<void> {
    const bytes = batch.reduce((sum, pending) => sum + pending.bytes, 0);
    // Batches are never split across segments, so a segment header always follows whole batches.
    if (this.tail.bytes + bytes > this.options.segmentSizeBytes) await this.roll();

    // The tail is opened with O_DSYNC (see openTail): the write returns once the bytes are synced.
    await writeFullyV(
      this.tail.handle,
      batch.flatMap((pending) => pending.records),
      this.tail.bytes,
    );
    if (this.options.addedLatencyMs > 0) await sleep(this.options.addedLatencyMs);
    if (this.options.sync === 'fdatasync') this.stats.syncs += 1;
    this.tail.bytes += bytes;
    this.stats.batches += 1;
    this.stats.bytesWritten += bytes;
  }

  /** Starts a new segment whose header carries the durable state over. The old one is already synced. */
  private async roll(): Promise<void> {
    await this.tail.handle.close();
    this.tail = await createSegment(this.dir, this.tail.segment.sequence + 1, this.mirror, this.options.sync);
    this.segments.push(this.tail.segment);
  }

  /** After a failed write or sync the file's state is unknown (fsync errors are not retryable): stop. */
  private fail(error: unknown, batch: readonly Pending[]): void {
    this.failure = new WeftError(
      'WAL_FAILED',
      `writing the WAL failed (${describeError(error)}); the node must stop and restart to recover from what is durable`,
      { cause: describeError(error) },
    );
    for (const pending of [...batch, ...this.queue]) pending.reject(this.failure);
    this.queue = [];
  }
}

async function createSegment(dir: string, sequence: number, mirror: LogMirror, sync: WalSync): Promise<Tail> {
  const firstIndex = mirror.lastIndex() + 1;
  const segment = { sequence, firstIndex, path: join(dir, segmentFileName(sequence, firstIndex)) };
  const header = encodeSegmentHeader({
    sequence,
    firstIndex,
    hardState: mirror.hardState,
    snapshot: mirror.snapshot,
  });
  const record = encodeRecord(RecordType.segmentHeader, header);
  await writeFileAtomically(segment.path, record);
  return { handle: await openTail(segment.path, sync), segment, bytes: record.length };
}

/**
 * Opens the segment being appended to. With 'fdatasync' it is opened
 * O_DSYNC: each write returns only once its data (and the metadata needed to
 * read it back) is on stable storage, exactly what write + fdatasync gives,
 * in one system call and one thread-pool round trip instead of two.
 */
function openTail(path: string, sync: WalSync): Promise<FileHandle> {
  const flags = constants.O_RDWR | (sync === 'fdatasync' ? constants.O_DSYNC : 0);
  return open(path, flags);
}

/** A torn tail is cut off with a warning; any other damage stops the start with the repair command. */
async function handleDamage(
  damage: Damage,
  dataDir: string,
  warn: (message: string, details: Record<string, unknown>) => void,
): Promise<void> {
  if (!damage.torn) throw walCorrupt(damage, dataDir);
  await truncateDurably(damage.segment.path, damage.offset);
  warn(
    `WAL: truncated a torn record at the end of ${damage.segment.path} at byte ${damage.offset} (${damage.reason}); it was never acknowledged`,
    {
      file: damage.segment.path,
      offset: damage.offset,
    },
  );
}

export function walCorrupt(damage: Damage, dataDir: string): WeftError {
  return new WeftError(
    'WAL_CORRUPT',
    `the WAL is damaged at ${damage.segment.path} byte ${damage.offset} (${damage.reason}) and good records may follow, ` +
      `so weft will not start. To truncate the log after the last good record, dropping every entry after it ` +
      `(the command says how many), run: weft repair --data-dir ${dataDir}`,
    { file: damage.segment.path, offset: damage.offset, reason: damage.reason },
  );
}

/** The recovered log must continue from its snapshot with no hole, and commit only what it holds. */
function checkConsistent(mirror: LogMirror, dataDir: string): void {
  const gap = mirror.gap();
  const advice = `restore ${dataDir} from a backup, or remove it and re-add this member so the leader sends a snapshot`;
  if (gap !== undefined) {
    throw new WeftError(
      'WAL_CORRUPT',
      `the WAL has no entries ${gap.expected}..${gap.found - 1} (a segment file is missing); ${advice}`,
      { expected: gap.expected, found: gap.found },
    );
  }
  if (mirror.hardState.commit > mirror.lastIndex()) {
    throw new WeftError(
      'WAL_CORRUPT',
      `the WAL says entries up to ${mirror.hardState.commit} are committed but holds only up to ${mirror.lastIndex()}; ${advice}`,
      { commit: mirror.hardState.commit, lastIndex: mirror.lastIndex() },
    );
  }
}
