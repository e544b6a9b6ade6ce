import { describeError } from '../../core/errors.ts';
import { checkIntervalMs, CompactionSchedule, type AutoCompaction } from '../../kv/auto-compaction.ts';
import type { Logger } from '../logger.ts';
import type { RaftLoop } from './raft-loop.ts';
import type { ReplicatedKv } from './replicated-kv.ts';

/**
 * Runs the compaction schedule (src/kv/auto-compaction.ts) on a timer:
 * every member samples its store's revision, and the leader proposes the
 * compactions that fall due, through Raft like a client's Compact, so every
 * member compacts at the same point of the log.
 */
export class AutoCompactor {
  private readonly schedule: CompactionSchedule;
  private timer: NodeJS.Timeout | undefined;
  private compacting = false;

  constructor(
    private readonly policy: AutoCompaction,
    private readonly loop: RaftLoop,
    private readonly kv: ReplicatedKv,
    private readonly log: Logger,
  ) {
    this.schedule = new CompactionSchedule(policy);
  }

  start(): void {
    this.timer = setInterval(() => this.check(), checkIntervalMs(this.policy));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const store = this.loop.kv.store;
    const target = this.schedule.observe(performance.now(), store.revision, store.compactedRevision);
    if (target === undefined || this.compacting || this.loop.node.role !== 'leader') return;
    this.compacting = true;
    this.kv
      .compact({ revision: target }, { timeoutMs: 10_000 })
      .then(
        () => this.log.info({ revision: target, policy: this.policy }, 'compacted the KV history automatically'),
        // A client may have compacted further meanwhile, or leadership moved: the next round tries again.
        (error: unknown) =>
          this.log.info({ revision: target, error: describeError(error) }, 'automatic compaction did not run'),
      )
      .finally(() => (this.compacting = false));
  }
}
