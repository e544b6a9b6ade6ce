import { assert } from '../core/assert.ts';
import type { NodeId } from './types.ts';

/** A read whose index is known: serve it once the state machine has applied `index`. */
export interface ReadState {
  readonly context: string;
  /** The read index; 0 means the read failed (leader changed) and should be retried. */
  readonly index: number;
}

interface PendingRead {
  readonly context: string;
  readonly index: number;
  /** Who asked: this member, or the follower to answer with a readIndexResp. */
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex (thesis §6.4): a read at the commit index is linearizable once
 * a quorum confirms, after the read arrived, that this member still leads.
 * Reads queue in arrival order; a quorum's ack of a later read confirms
 * every earlier one too, so they are released together.
 */
export class ReadIndexQueue {
  private readonly queue: PendingRead[] = [];

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.queue.length;
  }

  full(): boolean {
    return this.queue.length >= this.maxPending;
  }

  add(context: string, index: number, requester: NodeId, self: NodeId): void {
    assert(!this.full(), 'the read queue is checked for room before adding');
    this.queue.push({ context, index, requester, acks: new Set([self]) });
  }

  /** The context a heartbeat should carry: the newest pending read's. */
  lastContext(): string {
    return this.queue.at(-1)?.context ?? '';
  }

  /** Record `from`'s ack of `context`; returns the reads confirmed by it (oldest first). */
  ack(context: string, from: NodeId, isQuorum: (acks: ReadonlySet<NodeId>) => boolean): PendingRead[] {
    const position = this.queue.findIndex((read) => read.context === context);
    if (position < 0) return [];
    const read = this.queue[position];
    assert(read !== undefined, 'found read exists');
    read.acks.add(from);
    if (!isQuorum(read.acks)) return [];
    return this.queue.splice(0, position + 1);
  }

  /** Everything pending, emptied: on losing leadership these reads fail. */
  drain(): PendingRead[] {
    return this.queue.splice(0, this.queue.length);
  }
}
