import { NotLeaderError, WeftError } from '../../core/errors.ts';
import type { ReadState } from '../../raft/read-only.ts';
import type { RaftNode } from '../../raft/raft-node.ts';

interface Waiter {
  resolve(index: number): void;
  reject(error: Error): void;
}

/** A round with no answer in this time (its message was lost) fails, so later reads are not stuck behind it. */
const roundTimeoutMs = 1_000;

/**
 * Linearizable reads through ReadIndex (thesis §6.4), batched as etcd does:
 * every read that arrived while no round was out shares the next round, so
 * a burst of reads costs one heartbeat round, not one each. A read that
 * arrives during a round waits for the next one, because the leadership
 * confirmation it relies on must come after it arrived. A read resolves
 * with its index once the local state machine has applied that index.
 */
export class ReadIndexBatcher {
  private waiting: Waiter[] = [];
  private round: { context: string; waiters: Waiter[]; timer: NodeJS.Timeout } | undefined;
  private confirmed: { index: number; waiters: Waiter[] }[] = [];
  private counter = 0;

  constructor(
    private readonly node: RaftNode,
    private readonly appliedIndex: () => number,
    private readonly kick: () => void,
  ) {}

  read(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.startRound();
    });
  }

  private startRound(): void {
    if (this.round !== undefined || this.waiting.length === 0) return;
    const waiters = this.waiting;
    this.waiting = [];
    this.counter += 1;
    const context = `read-${this.counter}`;
    try {
      this.node.readIndex(context);
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error as Error);
      return;
    }
    const timer = setTimeout(() => {
      if (this.round?.context !== context) return;
      this.round = undefined;
      const timeout = new WeftError('TIMEOUT', 'the leader did not confirm a read in time; retry');
      for (const waiter of waiters) waiter.reject(timeout);
      this.startRound();
    }, roundTimeoutMs);
    this.round = { context, waiters, timer };
    this.kick();
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const state of states) {
      const round = this.round;
      if (round === undefined || state.context !== round.context) continue;
      clearTimeout(round.timer);
      this.round = undefined;
      if (state.index === 0) {
        const lost = new NotLeaderError('');
        for (const waiter of round.waiters) waiter.reject(lost);
      } else {
        this.confirmed.push({ index: state.index, waiters: round.waiters });
      }
    }
    this.onApplied();
    this.startRound();
  }

  /** Serve every confirmed read whose index is now applied. */
  onApplied(): void {
    const applied = this.appliedIndex();
    const still: { index: number; waiters: Waiter[] }[] = [];
    for (const batch of this.confirmed) {
      if (batch.index > applied) {
        still.push(batch);
        continue;
      }
      for (const waiter of batch.waiters) waiter.resolve(batch.index);
    }
    this.confirmed = still;
  }

  failAll(error: Error): void {
    if (this.round !== undefined) clearTimeout(this.round.timer);
    const all = [...this.waiting, ...(this.round?.waiters ?? []), ...this.confirmed.flatMap((b) => b.waiters)];
    this.waiting = [];
    this.round = undefined;
    this.confirmed = [];
    for (const waiter of all) waiter.reject(error);
  }
}
