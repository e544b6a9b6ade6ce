/**
 * Automatic compaction of the MVCC history, as etcd's
 * --auto-compaction-mode / --auto-compaction-retention do. Without it the
 * history of every key is kept until a client compacts, and weft keeps that
 * history in memory. Pure: the driver calls `observe` on a timer with the
 * time and the store's revisions, and proposes a compaction to what it
 * returns (on the leader only, since every member would compact the same).
 */
export type AutoCompaction =
  /** Keep at least `retentionMs` of history: compact to the revision the store had that long ago. */
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  /** Keep the last `retention` revisions. */
  | { readonly mode: 'revision'; readonly retention: number };

/** etcd's revision compactor looks every 5 minutes; so does this one. */
const revisionCheckMs = 5 * 60_000;
/** A periodic compaction runs at most this often (etcd: once per retention period, at most hourly). */
const maxPeriodMs = 60 * 60_000;
/** A periodic schedule samples the revision this many times per retention period. */
const samplesPerPeriod = 10;

/** How often the driver should call `observe`. */
export function checkIntervalMs(policy: AutoCompaction): number {
  return policy.mode === 'revision' ? revisionCheckMs : Math.max(1, Math.floor(policy.retentionMs / samplesPerPeriod));
}

export class CompactionSchedule {
  /** (time, revision) samples, oldest first, none older than needed. */
  private samples: { atMs: number; revision: number }[] = [];
  private lastCompactionAtMs: number | undefined;

  constructor(private readonly policy: AutoCompaction) {}

  /**
   * Record the store's revision at `nowMs`; returns the revision to compact
   * to now, or undefined when nothing is due. A member that is not the
   * leader still calls this (so that it has samples if it becomes leader)
   * and ignores the answer.
   */
  observe(nowMs: number, revision: number, compactedRevision: number): number | undefined {
    if (this.policy.mode === 'revision') {
      const target = revision - this.policy.retention;
      return target > compactedRevision ? target : undefined;
    }
    const { retentionMs } = this.policy;
    this.samples.push({ atMs: nowMs, revision });
    // Keep the newest sample at least retentionMs old, and everything after it.
    while (this.samples.length > 1 && nowMs - this.samples[1]!.atMs >= retentionMs) this.samples.shift();
    const oldest = this.samples[0]!;
    if (nowMs - oldest.atMs < retentionMs) return undefined;
    const period = Math.min(retentionMs, maxPeriodMs);
    if (this.lastCompactionAtMs !== undefined && nowMs - this.lastCompactionAtMs < period) return undefined;
    if (oldest.revision <= compactedRevision) return undefined;
    this.lastCompactionAtMs = nowMs;
    return oldest.revision;
  }
}
