import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from '../core/crc32c.ts';
import { WeftError } from '../core/errors.ts';
import type { SnapshotMeta } from '../raft/types.ts';
import { syncDirectory, writeFully } from './fs-sync.ts';
import { decodeSnapshotMeta, encodeSnapshotMeta } from './wal-codec.ts';

/**
 * Snapshot files in `<data-dir>/snap/<term>-<index>.snap` (16 hex digits each):
 *
 *   "WEFTSNP1" | u32 LE meta length | meta (wal-codec snapshot encoding) | data …
 *   | u32 LE data length high | u32 LE data length low | u32 LE CRC-32C of every byte before the trailer
 *
 * Written to a .tmp file, synced, renamed, directory synced; the newest
 * `keep` are kept. Read back in chunks of at most `chunkBytes`, so a snapshot
 * can be streamed to a follower without holding it in memory; the checksum
 * is verified when the last chunk has been read.
 */
export const SNAP_DIR_NAME = 'snap';
const MAGIC = new TextEncoder().encode('WEFTSNP1');
const TRAILER_BYTES = 12;

export interface SnapshotStoreOptions {
  readonly dataDir: string;
  /** Snapshots kept; older ones are removed after each new one. @default 3 */
  readonly keep?: number;
  /** Largest chunk read back. @default 1 MiB */
  readonly chunkBytes?: number;
}

export class SnapshotStore {
  readonly dir: string;
  private readonly keep: number;
  private readonly chunkBytes: number;

  constructor(options: SnapshotStoreOptions) {
    this.dir = join(options.dataDir, SNAP_DIR_NAME);
    this.keep = options.keep ?? 3;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
  }

  path(meta: Pick<SnapshotMeta, 'index' | 'term'>): string {
    return join(this.dir, `${hex16(meta.term)}-${hex16(meta.index)}.snap`);
  }

  /** Starts a snapshot file; nothing is visible until `commit`. */
  async create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    await mkdir(this.dir, { recursive: true });
    const path = this.path(meta);
    const handle = await open(`${path}.tmp`, 'w');
    const metaBytes = encodeSnapshotMeta(meta);
    const header = new Uint8Array(MAGIC.length + 4 + metaBytes.length);
    header.set(MAGIC);
    new DataView(header.buffer).setUint32(MAGIC.length, metaBytes.length, true);
    header.set(metaBytes, MAGIC.length + 4);
    const writer = new SnapshotWriter(handle, path, () => this.prune());
    await writer.writeRaw(header);
    return writer;
  }

  /** Snapshot files present, newest first (by index). Their contents are checked only when read. */
  async list(): Promise<{ index: number; term: number; path: string }[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names
      .map((name) => /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(name))
      .filter((match) => match !== null)
      .map((match) => ({
        term: Number.parseInt(match[1]!, 16),
        index: Number.parseInt(match[2]!, 16),
        path: join(this.dir, match[0]),
      }))
      .sort((a, b) => b.index - a.index);
  }

  /** Opens the snapshot for `meta`: SNAPSHOT_MISSING if absent, SNAPSHOT_CORRUPT if damaged (see SnapshotReader). */
  async open(meta: Pick<SnapshotMeta, 'index' | 'term'>): Promise<SnapshotReader> {
    const path = this.path(meta);
    const handle = await open(path, 'r').catch(() => {
      throw new WeftError(
        'SNAPSHOT_MISSING',
        `snapshot ${path} is missing but the WAL refers to it; restore the data directory from a backup, or remove it and re-add this member`,
        { path },
      );
    });
    return SnapshotReader.open(handle, path, this.chunkBytes);
  }

  private async prune(): Promise<void> {
    const files = await this.list();
    for (const file of files.slice(this.keep)) await rm(file.path, { force: true });
    await syncDirectory(this.dir);
  }
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

export class SnapshotWriter {
  private crc = 0;
  private bytes = 0;
  private dataBytes = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly afterCommit: () => Promise<void>,
  ) {}

  async writeRaw(chunk: Uint8Array): Promise<void> {
    await writeFully(this.handle, chunk, this.bytes);
    this.crc = crc32c(chunk, this.crc);
    this.bytes += chunk.length;
  }

  async write(chunk: Uint8Array): Promise<void> {
    await this.writeRaw(chunk);
    this.dataBytes += chunk.length;
  }

  /** Seals the file: trailer, fsync, atomic rename, directory fsync, then older snapshots are pruned. */
  async commit(): Promise<void> {
    const trailer = new Uint8Array(TRAILER_BYTES);
    const view = new DataView(trailer.buffer);
    view.setUint32(0, Math.floor(this.dataBytes / 0x100000000), true);
    view.setUint32(4, this.dataBytes >>> 0, true);
    view.setUint32(8, crc32c(trailer.subarray(0, 8), this.crc), true);
    await writeFully(this.handle, trailer, this.bytes);
    await this.handle.datasync();
    await this.handle.close();
    await rename(`${this.path}.tmp`, this.path);
    await this.afterCommit();
  }

  async abort(): Promise<void> {
    await this.handle.close();
    await rm(`${this.path}.tmp`, { force: true });
  }
}

export class SnapshotReader {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly meta: SnapshotMeta,
    private readonly dataOffset: number,
    readonly dataBytes: number,
    private readonly chunkBytes: number,
  ) {}

  /** Checks the header and that the file is as long as its trailer says: a truncated file fails here. */
  static async open(handle: FileHandle, path: string, chunkBytes: number): Promise<SnapshotReader> {
    const fail = (reason: string): never => {
      void handle.close();
      throw snapshotCorrupt(path, reason);
    };
    const fileBytes = (await handle.stat()).size;
    const head = new Uint8Array(Math.min(fileBytes, 64 * 1024));
    await handle.read(head, 0, head.length, 0);
    if (fileBytes < MAGIC.length + 4 + TRAILER_BYTES || !MAGIC.every((b, i) => head[i] === b))
      fail('not a snapshot file');
    const metaBytes = new DataView(head.buffer).getUint32(MAGIC.length, true);
    const dataOffset = MAGIC.length + 4 + metaBytes;
    if (dataOffset > head.length) fail(`header claims ${metaBytes} bytes of metadata`);
    const meta = decodeSnapshotMeta(head.subarray(MAGIC.length + 4, dataOffset), 'snapshot metadata');
    const trailer = new Uint8Array(TRAILER_BYTES);
    await handle.read(trailer, 0, TRAILER_BYTES, fileBytes - TRAILER_BYTES);
    const view = new DataView(trailer.buffer);
    const dataBytes = view.getUint32(0, true) * 0x100000000 + view.getUint32(4, true);
    const expected = dataOffset + dataBytes + TRAILER_BYTES;
    if (expected !== fileBytes) fail(`truncated or extended: ${fileBytes} bytes on disk, ${expected} expected`);
    return new SnapshotReader(handle, path, meta, dataOffset, dataBytes, chunkBytes);
  }

  /** The data in chunks of at most chunkBytes; throws SNAPSHOT_CORRUPT after the last one if the checksum fails. */
  async *chunks(): AsyncIterable<Uint8Array> {
    try {
      const header = new Uint8Array(this.dataOffset);
      await this.handle.read(header, 0, header.length, 0);
      let crc = crc32c(header);
      for (let offset = 0; offset < this.dataBytes; offset += this.chunkBytes) {
        const chunk = new Uint8Array(Math.min(this.chunkBytes, this.dataBytes - offset));
        await this.handle.read(chunk, 0, chunk.length, this.dataOffset + offset);
        crc = crc32c(chunk, crc);
        yield chunk;
      }
      const trailer = new Uint8Array(TRAILER_BYTES);
      await this.handle.read(trailer, 0, TRAILER_BYTES, this.dataOffset + this.dataBytes);
      const expected = new DataView(trailer.buffer).getUint32(8, true);
      if (crc32c(trailer.subarray(0, 8), crc) !== expected) throw snapshotCorrupt(this.path, 'checksum mismatch');
    } finally {
      await this.handle.close();
    }
  }
}

function snapshotCorrupt(path: string, reason: string): WeftError {
  return new WeftError(
    'SNAPSHOT_CORRUPT',
    `snapshot ${path} is damaged (${reason}); restore the data directory from a backup, or remove it and re-add this member so the leader sends a fresh snapshot`,
    { path, reason },
  );
}
