import { randomInt } from 'node:crypto';
import { assert } from '../../core/assert.ts';
import { WeftError } from '../../core/errors.ts';
import { createPrng } from '../../core/prng.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';
import { genesisState, joiningState } from '../../raft/bootstrap.ts';
import type { RaftConfig } from '../../raft/config.ts';
import { decodeConfChange, type ConfChange } from '../../raft/conf-change.ts';
import { decodeMessages, encodeMessages } from '../../raft/message-codec.ts';
import type { Message } from '../../raft/messages.ts';
import { leaderMessageTypes, RaftNode, type Ready, type RaftStatus } from '../../raft/raft-node.ts';
import type { Entry, HardState, NodeId, SnapshotMeta } from '../../raft/types.ts';
import { DurableKv } from '../../storage/durable-kv.ts';
import { SnapshotStore } from '../../storage/snapshot-store.ts';
import { Wal, type WalSync } from '../../storage/wal.ts';
import type { LogStorage } from '../../storage/log-storage.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';
import { electionLine } from './election-lines.ts';
import type { MemberDirectory } from './member-directory.ts';
import { ProposalWaiters } from './proposal-waiters.ts';
import { ReadIndexBatcher } from './read-index-batcher.ts';
import { SnapshotTransfer } from './snapshot-transfer.ts';

export interface RaftLoopOptions {
  readonly dataDir: string;
  readonly raft: RaftConfig;
  /** One Raft tick: the heartbeat interval divided by heartbeatTicks. */
  readonly tickMs: number;
  /** The founding voters, when this member may create a new cluster on an empty data dir; undefined to join one. */
  readonly founders: readonly NodeId[] | undefined;
  /** A snapshot is taken after this many entries are applied since the last. */
  readonly snapshotEveryEntries: number;
  /** Entries kept in the log behind a snapshot, for followers that are a little behind. */
  readonly keepEntries: number;
  readonly walSync: WalSync;
  /** Added to every WAL write (benchmarks only: a slower disk). @default 0 */
  readonly walDelayMs?: number;
}

/** A follower's transfer waiting for a snapshot file at least as new as `wanted`. */
interface FileWaiter {
  readonly wanted: SnapshotMeta;
  resolve(meta: SnapshotMeta): void;
  reject(error: unknown): void;
}

/**
 * Runs one Raft member on real time, disk and network: ticks from a timer,
 * and for each Ready, in the order the Ready contract demands, installs a
 * snapshot, appends to the WAL (one fsync shared by everything the Ready
 * holds: group commit), sends, applies committed entries to the MVCC store,
 * serves reads, and advances. One Ready is handled at a time; inputs that
 * arrive meanwhile are stepped at once and land in the next Ready, which is
 * what batches concurrent proposals into one disk write.
 */
export class RaftLoop {
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  /** The batch of committed entries being applied, if any (see applyInBackground). */
  private applying: Promise<void> = Promise.resolve();
  private drainAgain = false;
  /** A drain will start at the end of this turn of the event loop (see kick). */
  private drainScheduled = false;
  private stopped = false;
  private readonly proposals = new ProposalWaiters();
  private readonly heartbeatSentAt = new Map<NodeId, number>();
  /** Members whose lost connection was logged, until a message from them arrives. */
  private readonly lostPeers = new Set<NodeId>();
  private lastSnapshotIndex: number;
  /** The latest hard state not yet in the WAL (a commit-only change; see handle). */
  private unwrittenHardState: HardState | undefined;
  /**
   * Background disk work for snapshots (see maybeSnapshot): a store sync
   * before a compaction, or a snapshot file being written; a compaction
   * point whose sync is done, waiting to be recorded; followers waiting for
   * a snapshot file, and the newest file this member made or installed.
   */
  private saving = false;
  private snapshotting: Promise<void> = Promise.resolve();
  private compactionPoint: SnapshotMeta | undefined;
  private fileWaiters: FileWaiter[] = [];
  private newestFile: SnapshotMeta | undefined;
  private removedSelf = false;
  /** The leader (and its term) as last told to the leader listeners. */
  private knownLeader = { term: 0, leader: '' as NodeId };
  /** The last term in which this member, as leader, logged its first commit. */
  private termCommitLogged = 0;
  readonly reads: ReadIndexBatcher;
  private readonly snapshotTransfer: SnapshotTransfer;
  private readonly confListeners: ((change: ConfChange) => void)[] = [];
  private readonly applyListeners: ((results: readonly ApplyResult[]) => void)[] = [];
  private readonly leaderListeners: (() => void)[] = [];

  private constructor(
    readonly id: NodeId,
    readonly node: RaftNode,
    readonly kv: DurableKv,
    private readonly wal: LogStorage,
    private readonly snapshots: SnapshotStore,
    private readonly options: RaftLoopOptions,
    private readonly transport: PeerTransport,
    readonly directory: MemberDirectory,
    private readonly log: Logger,
    private readonly onFatal: (error: unknown) => void,
    snapshotIndex: number,
  ) {
    this.lastSnapshotIndex = snapshotIndex;
    this.reads = new ReadIndexBatcher(
      node,
      () => this.kv.appliedIndex,
      () => this.kick(),
    );
    this.snapshotTransfer = new SnapshotTransfer(id, transport, snapshots, log, {
      snapshotFor: (meta) => this.snapshotFileFor(meta),
      delivered: (message) => this.stepMessages([message]),
      finished: (to, ok) => {
        this.node.reportSnapshot(to, ok);
        this.kick();
      },
    });
  }

  static async open(
    options: RaftLoopOptions,
    deps: { transport: PeerTransport; directory: MemberDirectory; log: Logger; onFatal: (error: unknown) => void },
  ): Promise<RaftLoop> {
    const id = options.raft.id;
    const wal = await Wal.open({
      dataDir: options.dataDir,
      sync: options.walSync,
      addedLatencyMs: options.walDelayMs ?? 0,
      onWarning: (message, details) => deps.log.warn(details, message),
    });
    const kv = await DurableKv.open({ dataDir: options.dataDir });
    const snapshots = new SnapshotStore({ dataDir: options.dataDir });
    let state = wal.readAll();
    if (state.hardState.term === 0 && state.entries.length === 0 && state.snapshot === undefined) {
      const initial = options.founders !== undefined ? genesisState(options.founders) : joiningState();
      if (initial.entries.length > 0) await wal.append({ hardState: initial.hardState, entries: initial.entries });
      state = wal.readAll();
      deps.log.info({ founders: options.founders ?? 'none: joining' }, 'new data directory');
    }
    const snapshot = state.snapshot ?? joiningState().snapshot;
    if (snapshot.index > kv.appliedIndex) {
      // An install was interrupted: the WAL already moved past the store.
      await kv.installSnapshot(await snapshots.open(snapshot));
    }
    const node = new RaftNode({
      config: options.raft,
      prng: createPrng(randomInt(2 ** 47)),
      hardState: state.hardState,
      snapshot,
      entries: state.entries,
    });
    return new RaftLoop(
      id,
      node,
      kv,
      wal,
      snapshots,
      options,
      deps.transport,
      deps.directory,
      deps.log,
      deps.onFatal,
      snapshot.index,
    );
  }

  start(): void {
    this.transport.onMessage('raft', (payload, context) => this.receive(payload, context.from));
    this.transport.onPeerLost((address) => {
      const peer = this.directory.idAt(address);
      if (peer === undefined || this.stopped) return;
      // The transport reports again at every failed reconnect: say it once, until the member is heard again.
      if (!this.lostPeers.has(peer)) {
        // The leader and ranking it held: what S-Raft does next follows from them.
        const { leader } = this.node;
        this.log.info(
          { peer, leader, successors: this.node.successors().join(',') },
          'lost the connection to a member',
        );
      }
      this.lostPeers.add(peer);
      this.node.reportUnreachable(peer);
      this.kick();
    });
    this.snapshotTransfer.serve();
    this.timer = setInterval(() => {
      this.node.tick();
      // While a Ready is on its way to disk, a leader's heartbeats (and any
      // appends so far) leave now rather than after the fsync: under a busy
      // disk an fsync can take longer than S-Raft's promotion wait.
      if (this.draining) this.send(this.node.takeLeaderMessages());
      this.kick();
    }, this.options.tickMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.draining) await new Promise((resolve) => setTimeout(resolve, 5));
    await this.applying;
    await this.snapshotting;
    if (this.unwrittenHardState !== undefined)
      await this.wal.append({ hardState: this.unwrittenHardState, entries: [] });
    const stopping = nodeStopping();
    for (const waiter of this.fileWaiters.splice(0)) waiter.reject(stopping);
    this.proposals.rejectAll(stopping);
    this.reads.failAll(stopping);
    await this.kv.sync();
    await this.kv.close();
    await this.wal.close();
    await this.directory.flush();
  }

  get removed(): boolean {
    return this.removedSelf;
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /**
   * The index the store has applied, as far as Raft handed entries out:
   * what a read here sees. Raft counts a batch applied once it hands it over
   * and a snapshot once it receives it, before the store has it (applies run
   * in the background; a snapshot is installed in the next Ready); after a
   * restart the store can be ahead of Raft for a while.
   */
  appliedIndex(): number {
    return Math.min(this.node.appliedIndex, this.kv.appliedIndex);
  }

  onConfChange(listener: (change: ConfChange) => void): void {
    this.confListeners.push(listener);
  }

  /** Hear the results of every batch of entries applied here, in log order. */
  onApplied(listener: (results: readonly ApplyResult[]) => void): void {
    this.applyListeners.push(listener);
  }

  /** Hear when this member's view of the leader changes (another member, itself, none, or a new term). */
  onLeaderChange(listener: () => void): void {
    this.leaderListeners.push(listener);
  }

  /**
   * Append commands as leader with no waiter here: for proposals forwarded by
   * followers, which learn the outcome from their own apply. Throws NOT_LEADER elsewhere.
   */
  proposeForwarded(commands: readonly Uint8Array[]): void {
    this.node.propose(commands);
    this.kick();
  }

  /**
   * Propose a KV command as leader; resolves with its result once applied
   * here, rejects with NOT_LEADER elsewhere. The commands of one turn of the
   * event loop are proposed together when the loop next drains (they would
   * not reach a Ready sooner; see ProposalWaiters.proposeQueued).
   */
  propose(data: Uint8Array): Promise<ApplyResult | undefined> {
    if (this.stopped) return Promise.reject(nodeStopping());
    const applied = this.proposals.enqueue(data);
    this.kick();
    return applied;
  }

  proposeConfChange(change: ConfChange): Promise<ApplyResult | undefined> {
    const applied = this.proposals.waitFor(this.node.proposeConfChange(change));
    this.kick();
    return applied;
  }

  // ---- the loop ---------------------------------------------------------------

  /**
   * Handle Readys until there are none; calls while it runs make it go round
   * once more. The first call in a turn of the event loop starts the drain at
   * the end of that turn, not at once: a socket read often holds many client
   * requests or peer messages, and started at the first, the drain wrote a
   * Ready of one entry and left the rest for the next. Everything that
   * arrives in one turn now shares one WAL write, one message per peer and
   * one apply (docs/results.md: 6-9% less CPU per write).
   */
  kick(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (;;) {
          if (this.stopped) break;
          this.proposals.proposeQueued((commands) => this.node.propose(commands));
          if (!this.node.hasReady()) break;
          await this.handle(this.node.ready());
        }
        // Snapshot work that came with no Ready: a follower waiting for a file, a synced compaction point.
        if (!this.stopped && (this.fileWaiters.length > 0 || this.compactionPoint !== undefined))
          await this.maybeSnapshot();
      } while (this.drainAgain && !this.stopped);
    } catch (error) {
      this.fail(error);
    } finally {
      this.draining = false;
    }
  }

  /** A failed disk write leaves the node unable to keep its promises: stop it, loudly. */
  private fail(error: unknown): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.onFatal(error);
  }

  private async handle(ready: Ready): Promise<void> {
    if (ready.snapshot !== undefined) {
      await this.applying;
      await this.snapshotting;
      await this.install(ready.snapshot);
    }
    // Committed entries are durable on a quorum already, so they are applied
    // while this Ready's own entries go to disk, not after (etcd's raftNode
    // does the same): waiting cost every write one more fsync. Applies stay
    // in log order, one batch behind another.
    const previous = this.applying;
    if (ready.committedEntries.length > 0) {
      const committed = ready.committedEntries;
      this.applying = previous.then(() => this.applyInBackground(committed));
    }
    const early = this.node.role === 'leader' ? ready.messages.filter((m) => leaderMessageTypes.has(m.type)) : [];
    this.send(early);
    // A hard state whose only change is the commit index need not be durable
    // at once (mustSync is false): it goes with the next append, as an
    // unsynced write would. Dropping it, as the loop once did, left the WAL's
    // commit index where the last election put it.
    if (ready.hardState !== undefined) this.unwrittenHardState = ready.hardState;
    if (ready.entries.length > 0 || ready.mustSync) {
      const hardState = this.unwrittenHardState;
      this.unwrittenHardState = undefined;
      await this.wal.append({ ...(hardState !== undefined ? { hardState } : {}), entries: ready.entries });
    }
    this.send(early.length === 0 ? ready.messages : ready.messages.filter((m) => !early.includes(m)));
    // At most this Ready's batch is still applying past advance(): that bounds the backlog.
    await previous;
    this.reads.onReadStates(ready.readStates);
    this.node.advance(ready);
    if (ready.softState !== undefined) this.onSoftState(ready.softState.role, ready.softState.leader);
    if (this.node.role === 'leader' && this.termCommitLogged !== this.node.term) this.logFirstCommitOfTerm();
    this.noticeLeaderChange();
    await this.maybeSnapshot();
  }

  /**
   * Apply committed entries without holding up the loop: the WAL write of the
   * Ready that handed them out, and of the next, overlap the apply. The store
   * may then briefly hold entries this member's WAL does not yet: they are
   * committed, so a restart gets them again from the leader (the store skips
   * what it has), and a snapshot is only taken once the WAL has them (see
   * maybeSnapshot). Reads and proposals wait on the store's own applied
   * index, so nothing is answered before its entry is applied here.
   */
  private async applyInBackground(entries: readonly Entry[]): Promise<void> {
    try {
      await this.apply(entries);
      this.reads.onApplied();
    } catch (error) {
      this.fail(error);
    }
  }

  private async install(meta: SnapshotMeta): Promise<void> {
    // The WAL first: should the install be cut short, the restart finds the
    // WAL past the store and installs the file again (see open). The other
    // way round, it would look for the file of the last compaction point,
    // which there is none of.
    await this.wal.saveSnapshotMarker(meta);
    await this.kv.installSnapshot(await this.snapshots.open(meta));
    this.newestFile = meta;
    this.lastSnapshotIndex = meta.index;
    this.log.info({ index: meta.index, term: meta.term }, 'installed a snapshot from the leader');
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    const results = await this.kv.apply(entries);
    for (const listener of this.applyListeners) listener(results);
    const byIndex = new Map(results.map((r) => [r.index, r]));
    for (const entry of entries) {
      if (entry.kind === 'config') this.applyConf(decodeConfChange(entry.data));
      this.proposals.settle(entry, byIndex.get(entry.index));
    }
  }

  private applyConf(change: ConfChange): void {
    if (change.type === 'remove') {
      this.directory.remove(change.node);
      if (change.node === this.id) {
        this.removedSelf = true;
        this.log.error('this node was removed from the cluster: it stops serving until it is added again');
      }
    } else {
      if (change.context !== '') this.directory.set(change.node, change.context);
      // Added again under its old name: a node that replaced a removed one replays that removal, then this.
      if (change.node === this.id && this.removedSelf) {
        this.removedSelf = false;
        this.log.info({ change: change.type }, 'this node is a member again: it serves');
      }
    }
    void this.directory.flush();
    for (const listener of this.confListeners) listener(change);
  }

  private onSoftState(role: string, leader: NodeId): void {
    this.log.info({ role, leader: leader || undefined, term: this.node.term }, 'raft role changed');
  }

  /** A new leader serves writes once an entry of its term commits: when that was is worth a line. */
  private logFirstCommitOfTerm(): void {
    const { commit, term } = this.node.status();
    if (this.node.logTerm(commit) !== term) return;
    this.termCommitLogged = term;
    this.log.info({ index: commit, term }, 'committed the first entry of its term');
  }

  /** A leader re-elected in a new term may have lost what it held uncommitted: a new term counts as a change. */
  private noticeLeaderChange(): void {
    const { term, leader } = this.node;
    if (term === this.knownLeader.term && leader === this.knownLeader.leader) return;
    this.knownLeader = { term, leader };
    for (const listener of this.leaderListeners) listener();
  }

  /**
   * Every snapshotEveryEntries applied entries, compact the log. The store
   * already holds every applied entry on disk, so, as in etcd, the snapshot
   * behind a compaction is only its point (index, term, configuration) in the
   * WAL, once the store is synced past it. A snapshot file, a copy of the
   * whole store, is made only when a follower needs one (snapshotFileFor):
   * copying it at every compaction took each member 0.2-0.7 s for 15,000-
   * 45,000 records, all members at once, and grew with the KV history.
   * Both run in the background; the next pass through here records a synced
   * point in the WAL.
   */
  private async maybeSnapshot(): Promise<void> {
    const point = this.compactionPoint;
    if (point !== undefined) {
      this.compactionPoint = undefined;
      await this.compactTo(point);
    }
    const due = this.node.appliedIndex - this.lastSnapshotIndex >= this.options.snapshotEveryEntries;
    if (this.saving || (!due && this.fileWaiters.length === 0)) return;
    await this.applying;
    const applied = this.node.appliedSnapshotMeta();
    // After a restart the store can be ahead of Raft: it kept applies made
    // after the last compaction point, and Raft hands those entries out
    // again (the store skips them). The store is not the state at Raft's
    // applied index then: wait until Raft has caught up.
    if (applied.index < this.kv.appliedIndex) return;
    assert(applied.index === this.kv.appliedIndex, 'the store has applied everything Raft handed out');
    this.saving = true;
    this.snapshotting = (this.fileWaiters.length > 0 ? this.saveFile(applied) : this.syncForCompaction(applied))
      .catch((error: unknown) => this.fail(error))
      .finally(() => (this.saving = false));
  }

  private async syncForCompaction(point: SnapshotMeta): Promise<void> {
    // The WAL may release entries only once the store holds them durably.
    await this.kv.sync();
    this.compactionPoint = point;
    this.kick();
  }

  /**
   * Writes the store, as of the applied point, to a snapshot file for the
   * followers waiting; the point is then a compaction point too.
   */
  private async saveFile(point: SnapshotMeta): Promise<void> {
    let meta: SnapshotMeta;
    try {
      meta = await this.kv.saveSnapshot(this.snapshots, point.conf, point.term);
      await this.kv.sync();
    } catch (error) {
      for (const waiter of this.fileWaiters.splice(0)) waiter.reject(error);
      throw error;
    }
    this.newestFile = meta;
    // Followers that asked while it was written are served by it too, unless they want a newer one.
    const waiting = this.fileWaiters;
    this.fileWaiters = waiting.filter((waiter) => waiter.wanted.index > meta.index);
    for (const waiter of waiting) if (waiter.wanted.index <= meta.index) waiter.resolve(meta);
    this.compactionPoint = meta;
    this.kick();
  }

  /**
   * A snapshot file for a follower that the log no longer reaches, which
   * Raft offers the snapshot `wanted` (the last compaction point): the newest
   * file made or installed here if it is at least as new, else one made now.
   * A newer one is as good: the follower then needs only entries after it,
   * which the log still has.
   */
  private snapshotFileFor(wanted: SnapshotMeta): Promise<SnapshotMeta> {
    if (this.newestFile !== undefined && this.newestFile.index >= wanted.index) return Promise.resolve(this.newestFile);
    if (this.stopped) return Promise.reject(new WeftError('ABORTED', 'the node is stopping'));
    return new Promise((resolve, reject) => {
      this.fileWaiters.push({ wanted, resolve, reject });
      this.kick();
    });
  }

  private async compactTo(meta: SnapshotMeta): Promise<void> {
    // A snapshot installed from the leader while this one was written is newer.
    if (meta.index <= this.lastSnapshotIndex) return;
    await this.wal.saveSnapshotMarker(meta);
    const keepFrom = Math.max(this.node.status().firstIndex, meta.index + 1 - this.options.keepEntries);
    this.node.compact(meta, keepFrom);
    await this.wal.releaseBefore(keepFrom);
    this.lastSnapshotIndex = meta.index;
    this.log.info({ index: meta.index, keepFrom }, 'took a snapshot and compacted the log');
  }

  // ---- network ------------------------------------------------------------------

  private receive(payload: Uint8Array, fromAddress: string): void {
    if (this.stopped) return;
    let messages: Message[];
    try {
      messages = decodeMessages(payload);
    } catch (error) {
      this.log.warn({ err: error, from: fromAddress }, 'dropped an undecodable Raft message');
      return;
    }
    for (const m of messages) if (fromAddress !== '') this.directory.set(m.from, fromAddress);
    if (this.lostPeers.size > 0) for (const m of messages) this.lostPeers.delete(m.from);
    this.stepMessages(messages);
  }

  private stepMessages(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.to !== this.id) continue;
      if (m.type === 'heartbeatResp') this.measureRtt(m.from);
      else this.logElection('received', m);
      this.node.step(m);
    }
    this.kick();
  }

  private measureRtt(peer: NodeId): void {
    const sentAt = this.heartbeatSentAt.get(peer);
    if (sentAt !== undefined) this.node.reportRtt(peer, performance.now() - sentAt);
  }

  private logElection(direction: 'sent' | 'received', m: Message): void {
    const line = electionLine(direction, m);
    if (line !== undefined) this.log.info(line.fields, line.text);
  }

  /** One transport send per peer per batch; snapshots go by the snapshot transfer. */
  private send(messages: readonly Message[]): void {
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      if (m.type === 'snap') {
        void this.snapshotTransfer.send(m, this.directory.address(m.to));
        continue;
      }
      if (m.type === 'heartbeat') this.heartbeatSentAt.set(m.to, performance.now());
      else this.logElection('sent', m);
      const list = byPeer.get(m.to) ?? [];
      list.push(m);
      byPeer.set(m.to, list);
    }
    for (const [to, list] of byPeer) {
      const address = this.directory.address(to);
      if (address === undefined) {
        this.log.debug({ to }, 'no address known for a member; its messages are dropped');
        continue;
      }
      this.transport.send(address, 'raft', encodeMessages(list));
    }
  }
}

/** What calls still waiting, or arriving, learn when the member stops. */
export function nodeStopping(): WeftError {
  return new WeftError('ABORTED', 'the node is stopping; retry on another member');
}
