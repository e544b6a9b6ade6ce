import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * fsync of a directory: makes a file's creation, rename or removal durable.
 * Without it a crash can forget that a fully synced file exists at all.
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `bytes` at `position` (a single write may be short). */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/**
 * Writes `buffers` back to back at `position` with one vectored write (no
 * copy into one buffer); a short write is finished with plain writes.
 */
export async function writeFullyV(handle: FileHandle, buffers: readonly Uint8Array[], position: number): Promise<void> {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  const { bytesWritten } = await handle.writev(buffers as Uint8Array[], position);
  if (bytesWritten < total) {
    const rest = Buffer.concat(buffers as Uint8Array[]).subarray(bytesWritten);
    await writeFully(handle, rest, position + bytesWritten);
  }
}

/**
 * Creates `path` atomically: the bytes go to `path.tmp`, are synced, renamed
 * into place, and the directory is synced. A crash leaves either no file or
 * the whole file (plus, at worst, a stale .tmp that the next open removes).
 */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await writeFully(handle, bytes, 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDirectory(dirname(path));
}

/** Cuts a file to `bytes` and syncs it, so the cut survives a crash. */
export async function truncateDurably(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
