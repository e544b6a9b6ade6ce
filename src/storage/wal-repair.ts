import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory, truncateDurably } from './fs-sync.ts';
import { listSegments, WAL_DIR_NAME } from './wal-files.ts';
import { WAL_DEFAULTS } from './wal.ts';
import { entryIndexesFrom, scanSegments, type Damage } from './wal-scan.ts';

/**
 * `weft repair`: cuts the WAL after its last good record. Everything from the
 * first damaged record on is dropped, including later segments, and the
 * report says how many entries that was, so an operator knows what was lost.
 * It is never run implicitly: a damaged WAL stops the node instead.
 */
export interface RepairReport {
  /** The damage found, or undefined when the WAL is intact (nothing changed). */
  readonly damage: Damage | undefined;
  /** Entry records after the cut, including any whose payload no longer decodes. */
  readonly droppedEntries: number;
  /** Lowest and highest entry index among those dropped, when any could be read. */
  readonly droppedIndexes: { readonly first: number; readonly last: number } | undefined;
  /** Segment files removed whole (the damaged one too, if its first record was bad). */
  readonly removedFiles: readonly string[];
  /** Whether files were changed (false for a dry run). */
  readonly applied: boolean;
}

export async function repairWal(
  dataDir: string,
  options: { readonly dryRun?: boolean; readonly maxRecordBytes?: number } = {},
): Promise<RepairReport> {
  const maxRecordBytes = options.maxRecordBytes ?? WAL_DEFAULTS.maxRecordBytes;
  const all = await listSegments(join(dataDir, WAL_DIR_NAME));
  const { damage } = await scanSegments(all, maxRecordBytes);
  if (damage === undefined) {
    return { damage, droppedEntries: 0, droppedIndexes: undefined, removedFiles: [], applied: false };
  }
  const later = all.filter((segment) => segment.sequence > damage.segment.sequence);
  const indexes = entryIndexesFrom(await readFile(damage.segment.path), damage.offset, maxRecordBytes);
  for (const segment of later) indexes.push(...entryIndexesFrom(await readFile(segment.path), 0, maxRecordBytes));
  const removedFiles = [...(damage.offset === 0 ? [damage.segment.path] : []), ...later.map((s) => s.path)];
  if (options.dryRun !== true) {
    if (damage.offset > 0) await truncateDurably(damage.segment.path, damage.offset);
    for (const path of removedFiles) await rm(path);
    await syncDirectory(dirname(damage.segment.path));
  }
  const readable = indexes.filter((index) => Number.isFinite(index));
  const droppedIndexes =
    readable.length === 0
      ? undefined
      : { first: readable.reduce((a, b) => Math.min(a, b)), last: readable.reduce((a, b) => Math.max(a, b)) };
  return { damage, droppedEntries: indexes.length, droppedIndexes, removedFiles, applied: options.dryRun !== true };
}
