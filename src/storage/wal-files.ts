import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * WAL segment files in `<data-dir>/wal/`: `<sequence>-<first index>.wal`,
 * both 16 hex digits, so names sort in log order. The sequence increases by
 * one per segment; a gap means a segment is missing.
 */
export const WAL_DIR_NAME = 'wal';

export interface SegmentFile {
  readonly sequence: number;
  readonly firstIndex: number;
  readonly path: string;
}

export function segmentFileName(sequence: number, firstIndex: number): string {
  return `${hex16(sequence)}-${hex16(firstIndex)}.wal`;
}

function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

const namePattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

/**
 * The segments in `dir`, ascending by sequence. Leftover `.tmp` files (a
 * segment whose creation a crash interrupted before its rename) held no
 * acknowledged data and are removed.
 */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const names = await readdir(dir);
  const segments: SegmentFile[] = [];
  for (const name of names) {
    if (name.endsWith('.tmp')) {
      await rm(join(dir, name), { force: true });
      continue;
    }
    const match = namePattern.exec(name);
    if (match === null) continue;
    segments.push({
      sequence: Number.parseInt(match[1]!, 16),
      firstIndex: Number.parseInt(match[2]!, 16),
      path: join(dir, name),
    });
  }
  return segments.sort((a, b) => a.sequence - b.sequence);
}
