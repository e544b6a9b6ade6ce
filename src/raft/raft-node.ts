import { assert } from '../core/assert.ts';
import type { ConfChange } from './conf-change.ts';
import type { Message } from './messages.ts';
import { Raft, type Proposed, type RaftInit, type Role } from './raft.ts';
import type { ReadState } from './read-only.ts';
import type { ConfState, Entry, EntryKind, HardState, NodeId, SnapshotMeta } from './types.ts';

/** Who leads, as this member believes, and what this member is. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/**
 * Everything the driver must do after a batch of inputs, in this order:
 *
 * 1. `snapshot`: persist it and restore the state machine from its data
 *    (received beside the leader's `snap` message) before anything else.
 * 2. `hardState` and `entries`: persist both, durably (fsync) when
 *    `mustSync`, before sending any message. An entry at index i replaces
 *    the stored entry at i and every entry after it.
 * 3. `messages`: send them, only after step 2 (a vote or an append
 *    acknowledgement promises durable state; §5.1, thesis §3.8). A leader's
 *    own `leaderMessageTypes` promise nothing and may leave before it
 *    (thesis §10.2.1): the leader counts its own copy only at advance().
 * 4. `committedEntries`: apply them to the state machine in order. Each is
 *    committed; `config` entries change membership when advance() is called.
 *    Being durable on a quorum, they may be applied while step 2 is still
 *    writing (as etcd's server does), but a snapshot of the state machine
 *    must wait until step 2 is done, so that it covers only entries this
 *    member's own log holds.
 * 5. `readStates`: serve each read once the state machine has applied its
 *    index (index 0: the read failed; retry it).
 * Then call advance() with this same Ready. Inputs may be stepped between
 * ready() and advance(); what they produce goes into the next Ready.
 */
export interface Ready {
  /** Present when the leader or the role changed. No ordering obligation. */
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: SnapshotMeta;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** True when hardState's term or vote, or entries, must reach the disk before messages leave. */
  readonly mustSync: boolean;
}

/** Messages only a leader sends, none of which waits for its own disk. */
export const leaderMessageTypes: ReadonlySet<Message['type']> = new Set(['app', 'heartbeat', 'snap', 'timeoutNow']);

/**
 * The public face of one Raft member: inputs (step, tick, propose, …) and
 * output as Ready/advance pairs. Not thread-safe, and needs no threads: the
 * driver owns it and calls it from one loop.
 */
export class RaftNode {
  private readonly raft: Raft;
  private persistedHardState: HardState;
  private lastSoftState: SoftState;
  private outstanding: Ready | undefined;

  constructor(init: RaftInit) {
    this.raft = new Raft(init);
    this.persistedHardState = init.hardState;
    this.lastSoftState = this.softState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  get role(): Role {
    return this.raft.role;
  }

  /** The leader this member knows of, or '' while it knows none. */
  get leader(): NodeId {
    return this.raft.leader;
  }

  /** The index of the last entry handed out for applying (advance() records it). */
  get appliedIndex(): number {
    return this.raft.log.applied;
  }

  get term(): number {
    return this.raft.term;
  }

  step(message: Message): void {
    // The text only on failure: a template built for every message was a tenth of what a follower allocated.
    if (message.to !== this.raft.id) assert(false, `message for ${message.to} delivered to ${this.raft.id}`);
    this.raft.step(message);
  }

  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (tests and tools; timeouts do this on their own). */
  campaign(): void {
    this.raft.startElection();
  }

  /** Propose state-machine commands. Throws NOT_LEADER with the leader hint on a follower. */
  propose(commands: readonly Uint8Array[]): Proposed {
    return this.raft.propose(commands.map((data) => ({ kind: 'normal' as EntryKind, data })));
  }

  proposeConfChange(change: ConfChange): Proposed {
    return this.raft.proposeConfChange(change);
  }

  /** Request a linearizable read index for `context` (unique per read); answered in Ready.readStates. */
  readIndex(context: string): void {
    this.raft.readIndex(context);
  }

  transferLeadership(to: NodeId): void {
    this.raft.transferLeadership(to);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  /** S-Raft: a measured round trip to a follower, for ranking successors. */
  reportRtt(id: NodeId, rttMs: number): void {
    this.raft.reportRtt(id, rttMs);
  }

  /** S-Raft: the successor ranking as this member knows it, best first. */
  successors(): readonly NodeId[] {
    return this.raft.successorRanking();
  }

  reportSnapshot(id: NodeId, delivered: boolean): void {
    this.raft.reportSnapshot(id, delivered);
  }

  /** Mark a snapshot of the applied state as taken; keep log entries from `keepFrom` for slow followers. */
  compact(snapshot: SnapshotMeta, keepFrom: number): void {
    this.raft.compact(snapshot, keepFrom);
  }

  appliedSnapshotMeta(): SnapshotMeta {
    return this.raft.appliedSnapshotMeta();
  }

  hasReady(): boolean {
    const raft = this.raft;
    return (
      raft.messages.length > 0 ||
      raft.readStates.length > 0 ||
      raft.pendingSnapshot !== undefined ||
      raft.log.hasUnstable() ||
      raft.log.committed > raft.log.applied ||
      !sameHardState(raft.hardState(), this.persistedHardState) ||
      !sameSoftState(this.softState(), this.lastSoftState)
    );
  }

  ready(): Ready {
    assert(this.outstanding === undefined, 'advance() the previous Ready before asking for the next');
    const raft = this.raft;
    const hardState = raft.hardState();
    const softState = this.softState();
    const entries = raft.log.unstableEntries();
    const hardChanged = !sameHardState(hardState, this.persistedHardState);
    const ready: Ready = {
      ...(sameSoftState(softState, this.lastSoftState) ? {} : { softState }),
      ...(hardChanged ? { hardState } : {}),
      ...(raft.pendingSnapshot !== undefined ? { snapshot: raft.pendingSnapshot } : {}),
      entries,
      committedEntries: raft.log.toApply(),
      messages: raft.messages,
      readStates: raft.readStates,
      mustSync:
        entries.length > 0 ||
        raft.pendingSnapshot !== undefined ||
        hardState.term !== this.persistedHardState.term ||
        hardState.vote !== this.persistedHardState.vote,
    };
    raft.messages = [];
    raft.readStates = [];
    this.outstanding = ready;
    return ready;
  }

  /**
   * Take the leader's replication messages (appends, heartbeats, snapshots,
   * timeoutNow) produced since the last ready(), to send while the driver
   * is still persisting that Ready. They promise nothing about this node's
   * disk (thesis §10.2.1), so a slow fsync must not hold them back: a leader
   * whose heartbeats wait behind its disk looks dead to its followers.
   */
  takeLeaderMessages(): Message[] {
    const raft = this.raft;
    if (raft.role !== 'leader') return [];
    const taken = raft.messages.filter((m) => leaderMessageTypes.has(m.type));
    if (taken.length > 0) raft.messages = raft.messages.filter((m) => !leaderMessageTypes.has(m.type));
    return taken;
  }

  /** The driver did everything `ready` asked. */
  advance(ready: Ready): void {
    assert(this.outstanding === ready, 'advance() gets the Ready that ready() returned');
    this.outstanding = undefined;
    const raft = this.raft;
    if (ready.softState !== undefined) this.lastSoftState = ready.softState;
    if (ready.hardState !== undefined) this.persistedHardState = ready.hardState;
    if (ready.snapshot !== undefined && raft.pendingSnapshot === ready.snapshot) raft.pendingSnapshot = undefined;
    const last = ready.entries.at(-1);
    if (last !== undefined) raft.onPersisted(last.index, last.term);
    raft.onApplied(ready.committedEntries);
  }

  softState(): SoftState {
    return { leader: this.raft.leader, role: this.raft.role };
  }

  status(): RaftStatus {
    const raft = this.raft;
    return {
      id: raft.id,
      role: raft.role,
      leader: raft.leader,
      term: raft.term,
      vote: raft.vote,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      lastTerm: raft.log.lastTerm(),
      firstIndex: raft.log.firstIndex(),
      conf: raft.conf,
    };
  }

  /** @internal For golden tests and the simulator's checkers: read-only views of the log. */
  logTerm(index: number): number | undefined {
    return this.raft.log.term(index);
  }

  /** @internal */
  entryAt(index: number): Entry | undefined {
    return this.raft.log.entryAt(index);
  }

  /** @internal */
  logEntries(lo: number, hi: number): Entry[] | undefined {
    return this.raft.log.slice(lo, hi);
  }

  /** @internal */
  progressOf(id: NodeId): { match: number; next: number; state: string } | undefined {
    const pr = this.raft.progressOf(id);
    return pr === undefined ? undefined : { match: pr.match, next: pr.next, state: pr.state };
  }
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly firstIndex: number;
  readonly conf: ConfState;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role;
}
