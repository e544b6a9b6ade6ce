import { packCopies } from '../../core/binary.ts';
import { WeftError } from '../../core/errors.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';
import type { Proposed } from '../../raft/raft.ts';
import type { Entry } from '../../raft/types.ts';

interface Settle {
  resolve(result: ApplyResult | undefined): void;
  reject(error: Error): void;
}

/**
 * The leader's own proposals and who waits for them: local writes queued
 * until the loop next drains and then proposed as one batch, and every
 * proposal waited for by its index until an entry there is applied.
 */
export class ProposalWaiters {
  private readonly byIndex = new Map<number, Settle & { readonly term: number }>();
  private queued: (Settle & { readonly data: Uint8Array })[] = [];

  /** A local write's command, proposed with the others of its turn by proposeQueued. */
  enqueue(data: Uint8Array): Promise<ApplyResult | undefined> {
    return new Promise((resolve, reject) => this.queued.push({ data, resolve, reject }));
  }

  /**
   * Proposes the queued commands as one batch: one append to each follower
   * instead of one per command, their data copied into shared buffers
   * (packCopies), so the log does not hold an ArrayBuffer per write. The
   * batch is admitted or refused as one.
   */
  proposeQueued(propose: (commands: readonly Uint8Array[]) => Proposed): void {
    const queued = this.queued;
    if (queued.length === 0) return;
    this.queued = [];
    let proposed: Proposed;
    try {
      proposed = propose(packCopies(queued.map((proposal) => proposal.data)));
    } catch (error) {
      for (const proposal of queued) proposal.reject(error as Error);
      return;
    }
    const first = proposed.lastIndex - queued.length + 1;
    for (const [i, { resolve, reject }] of queued.entries()) {
      this.byIndex.set(first + i, { term: proposed.term, resolve, reject });
    }
  }

  /** Waits for the entry proposed at (index, term) to be applied. */
  waitFor(proposed: Proposed): Promise<ApplyResult | undefined> {
    return new Promise((resolve, reject) =>
      this.byIndex.set(proposed.lastIndex, { term: proposed.term, resolve, reject }),
    );
  }

  /** An entry was applied: its waiter gets the result, or PROPOSAL_DROPPED if another leader's entry took its index. */
  settle(entry: Entry, result: ApplyResult | undefined): void {
    const waiter = this.byIndex.get(entry.index);
    if (waiter === undefined) return;
    this.byIndex.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve(result);
    else
      waiter.reject(new WeftError('PROPOSAL_DROPPED', 'a new leader replaced the proposal before it committed; retry'));
  }

  rejectAll(error: Error): void {
    for (const waiter of [...this.byIndex.values(), ...this.queued.splice(0)]) waiter.reject(error);
    this.byIndex.clear();
  }
}
