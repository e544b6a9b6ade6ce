import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, EntryKind } from '../raft/types.ts';

/** Test support shared by the storage tests (imported by *.test.ts only). */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-storage-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function entry(index: number, term = 1, text = `e${index}`, kind: EntryKind = 'normal'): Entry {
  return { index, term, kind, data: new TextEncoder().encode(text) };
}

export function entries(from: number, to: number, term = 1): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}
