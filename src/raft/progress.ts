import { assert } from '../core/assert.ts';

/**
 * What the leader knows about one follower's log (etcd-io/raft's tracker):
 * - probe: send one append at a time until we learn where the logs match;
 * - replicate: stream appends optimistically, bounded by the in-flight window;
 * - snapshot: the entries it needs are compacted; wait for the snapshot.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of append messages sent but not yet acknowledged. */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.indexes.length;
  }

  full(): boolean {
    return this.indexes.length >= this.maxCount || this.bytes >= this.maxBytes;
  }

  /** Record an append whose last entry is `index`. Indexes only grow. */
  add(index: number, size: number): void {
    assert(!this.full(), 'no append is added to a full in-flight window');
    assert(this.indexes.length === 0 || index > (this.indexes.at(-1) ?? 0), 'in-flight indexes increase');
    this.indexes.push(index);
    this.sizes.push(size);
    this.bytes += size;
  }

  /** Forget every append up to and including `index`: the follower has it. */
  freeUpTo(index: number): void {
    let freed = 0;
    while (freed < this.indexes.length && (this.indexes[freed] ?? Infinity) <= index) {
      this.bytes -= this.sizes[freed] ?? 0;
      freed += 1;
    }
    this.indexes.splice(0, freed);
    this.sizes.splice(0, freed);
  }

  /** Forget the oldest append. A heartbeat reply proves the follower is alive, so a full window of lost appends must not block it forever. */
  freeFirst(): void {
    if (this.indexes.length === 0) return;
    this.freeUpTo(this.indexes[0] ?? 0);
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export class Progress {
  /** Highest index known to match the leader's log. */
  match = 0;
  /** Next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append was sent and no reply came yet; send no other until a heartbeat reply. */
  probeSent = false;
  /** In snapshot: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // From snapshot: the follower has at least the snapshot, so resume after it.
    this.next = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflights.reset();
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = snapshotIndex;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** An acknowledgement up to `index`. Returns true when it taught us something new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; `hint` is where the follower
   * suggests probing. Returns false for a stale rejection (already matched
   * past it, or not the probe we sent).
   */
  maybeDecrease(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether the leader should hold back appends to this follower for now. */
  paused(): boolean {
    if (this.state === 'probe') return this.probeSent;
    if (this.state === 'replicate') return this.inflights.full();
    return true;
  }
}
