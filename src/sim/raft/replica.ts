import { assert } from '../../core/assert.ts';
import type { Prng } from '../../core/prng.ts';
import { raftConfig } from '../../raft/config.ts';
import type { Proposed, Role } from '../../raft/raft.ts';
import { leaderMessageTypes, RaftNode, type Ready } from '../../raft/raft-node.ts';
import type { InitialState } from '../../raft/bootstrap.ts';
import type { Entry, NodeId, SnapshotMeta } from '../../raft/types.ts';
import type { Scheduler } from '../core/scheduler.ts';
import type { SimMachine } from './machine.ts';
import { SimDisk, type DurableState } from './disk.ts';
import type { Packet } from './network.ts';
import { drawDelay, type SimOptions } from './options.ts';

/** What the cluster and its checkers learn from a replica as it runs. */
export interface ReplicaObserver {
  statusChanged(id: NodeId, role: Role, term: number): void;
  applied(id: NodeId, entry: Entry, machine: SimMachine): void;
  restored(id: NodeId, meta: SnapshotMeta, machine: SimMachine): void;
  /** Reads whose index is known, after this Ready's entries were applied. */
  readStates(id: NodeId, states: Ready['readStates']): void;
  /** A new vote was persisted and the messages it promises were sent. */
  voted(id: NodeId): void;
  /** This member, as leader, just applied its first entries since it was elected. */
  leaderFirstCommit(id: NodeId): void;
  /** A new leader's first entries are durable and its messages are about to leave; true: crash now instead. */
  crashBeforeFirstSend(id: NodeId): boolean;
  trace(line: string): void;
  /** Per-Ready detail; only a full trace (--trace) records it. */
  detail?(line: string): void;
}

/**
 * The simulator's driver for one member: it runs the real RaftNode and does
 * what each Ready asks in the documented order — persist, sync (after a
 * simulated fsync delay), send, apply, advance — over the simulated disk
 * and network. As the node driver does (thesis §10.2.1), a leader's appends
 * and heartbeats leave before its own fsync, and ticks during an fsync send
 * the heartbeats they produce. Crashing drops everything not synced;
 * restarting rebuilds the member from its disk alone.
 */
export class SimReplica {
  node: RaftNode | undefined;
  machine: SimMachine;
  readonly disk: SimDisk;
  /** Bumped on every crash, so callbacks scheduled before it do nothing. */
  private generation = 0;
  private processing = false;
  private readonly incomingSnapshots = new Map<string, Uint8Array>();
  private readonly heartbeatSentAt = new Map<NodeId, number>();
  private lastRole: Role = 'follower';
  /** The term in which this member last saw itself commit as leader. */
  private committedAsLeaderIn = 0;
  /** The term in which this member last persisted entries as leader. */
  private persistedAsLeaderIn = 0;
  /** The last vote persisted, as term/candidate, so a crash point fires once per vote. */
  private lastVote = '';
  private lastTerm = 0;
  private readonly tickMs: number;

  constructor(
    readonly id: NodeId,
    initial: InitialState,
    private readonly options: SimOptions,
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly send: (packet: Packet) => void,
    private readonly observer: ReplicaObserver,
    private readonly createMachine: () => SimMachine,
  ) {
    this.machine = createMachine();
    this.disk = new SimDisk({
      hardState: initial.hardState,
      snapshot: { meta: initial.snapshot, data: this.machine.snapshot() },
      entries: initial.entries,
    });
    this.tickMs = options.tickMs * (1 + (prng.next() * 2 - 1) * options.clockDrift);
    this.start();
  }

  get alive(): boolean {
    return this.node !== undefined;
  }

  crash(): void {
    if (this.node === undefined) return;
    this.generation += 1;
    this.node = undefined;
    this.processing = false;
    this.incomingSnapshots.clear();
    this.disk.crash();
    this.observer.trace(`${this.id} CRASH`);
  }

  /** Boot from the durable state, as a real node does after a restart. */
  start(): void {
    assert(this.node === undefined, 'only a stopped replica starts');
    const durable = this.readDurable();
    this.machine = this.createMachine();
    this.machine.restore(durable.snapshot.data);
    this.node = new RaftNode({
      config: raftConfig({
        id: this.id,
        electionTicks: this.options.electionTicks,
        heartbeatTicks: this.options.heartbeatTicks,
        preVote: this.options.preVote,
        checkQuorum: this.options.checkQuorum,
        maxSizePerMsgBytes: this.options.maxSizePerMsgBytes,
        maxInflightMsgs: this.options.maxInflightMsgs,
        consensus: this.options.consensus,
        promotionTicks: this.options.promotionTicks,
      }),
      prng: this.prng.fork(),
      hardState: durable.hardState,
      snapshot: durable.snapshot.meta,
      entries: durable.entries.filter((e) => e.index > durable.snapshot.meta.index),
      mutations: this.options.mutations,
    });
    this.lastRole = 'follower';
    this.lastTerm = durable.hardState.term;
    this.scheduleTick(this.generation);
    this.kick();
  }

  private readDurable(): DurableState {
    const durable = this.disk.read();
    if (this.options.mutations.forgetVoteOnRestart !== true) return durable;
    return { ...durable, hardState: { ...durable.hardState, vote: '' } };
  }

  receive(packet: Packet): void {
    const node = this.node;
    if (node === undefined) return;
    const m = packet.message;
    if (m.type === 'snap' && packet.snapshotData !== undefined) {
      this.incomingSnapshots.set(snapshotKey(m.snapshot), packet.snapshotData);
    }
    // The driver measures round trips with its own clock, for S-Raft's ranking.
    const sentAt = m.type === 'heartbeatResp' ? this.heartbeatSentAt.get(m.from) : undefined;
    if (sentAt !== undefined) node.reportRtt(m.from, this.scheduler.now - sentAt);
    node.step(m);
    this.afterInput();
  }

  propose(value: Uint8Array): Proposed {
    assert(this.node !== undefined, 'proposals go to running replicas');
    const proposed = this.node.propose([value]);
    this.afterInput();
    return proposed;
  }

  /** The transport noticed that `peer` is gone (its connections were reset). */
  connectionLost(peer: NodeId): void {
    if (this.node === undefined) return;
    this.node.reportUnreachable(peer);
    this.afterInput();
  }

  /** Run an arbitrary input against the live node, then process what it produced. */
  withNode<T>(action: (node: RaftNode) => T): T {
    assert(this.node !== undefined, 'inputs go to running replicas');
    const result = action(this.node);
    this.afterInput();
    return result;
  }

  private scheduleTick(generation: number): void {
    this.scheduler.after(this.tickMs, () => {
      if (generation !== this.generation || this.node === undefined) return;
      this.node.tick();
      // A slow fsync must not silence a leader (the node driver does the same).
      if (this.processing) for (const message of this.node.takeLeaderMessages()) this.sendMessage(message);
      this.afterInput();
      this.scheduleTick(generation);
    });
  }

  private afterInput(): void {
    const node = this.node;
    if (node === undefined) return;
    if (node.role !== this.lastRole || node.term !== this.lastTerm) {
      this.lastRole = node.role;
      this.lastTerm = node.term;
      this.observer.statusChanged(this.id, node.role, node.term);
    }
    this.kick();
  }

  private kick(): void {
    if (this.processing || this.node === undefined || !this.node.hasReady()) return;
    this.processing = true;
    const ready = this.node.ready();
    this.persist(ready);
    const generation = this.generation;
    // As the node driver does: committed entries are applied while the
    // Ready's own writes are on their way to disk (after a snapshot, though).
    // An observer may crash this replica as an entry applies.
    if (ready.snapshot === undefined) this.applyCommitted(ready);
    if (generation !== this.generation) return;
    const early = this.earlyMessages(ready);
    for (const message of early) this.sendMessage(message);
    const delay = ready.mustSync ? drawDelay(this.prng, this.options.fsyncMinMs, this.options.fsyncMeanMs) : 0;
    this.scheduler.after(delay, () => {
      if (generation !== this.generation) return;
      if (ready.mustSync) this.disk.sync();
      this.finish(ready, early);
    });
  }

  /**
   * A leader's appends and heartbeats, which leave before its fsync: it
   * counts its own copy only once durable. Except with a new leader's first
   * entries, so that the crash point after them (durable here, sent
   * nowhere) stays reachable.
   */
  private earlyMessages(ready: Ready): Ready['messages'] {
    const node = this.node;
    if (node?.role !== 'leader' || this.firstEntriesAsLeader(ready, node)) return [];
    return ready.messages.filter((m) => leaderMessageTypes.has(m.type));
  }

  private firstEntriesAsLeader(ready: Ready, node: RaftNode): boolean {
    return node.role === 'leader' && ready.entries.length > 0 && this.persistedAsLeaderIn !== node.term;
  }

  private persist(ready: Ready): void {
    if (ready.snapshot !== undefined) {
      const data = this.incomingSnapshots.get(snapshotKey(ready.snapshot));
      assert(data !== undefined, 'snapshot data arrived with the snap message');
      this.disk.write({ kind: 'snapshot', snapshot: { meta: ready.snapshot, data } });
    }
    if (ready.hardState !== undefined) this.disk.write({ kind: 'hardState', hardState: ready.hardState });
    if (ready.entries.length > 0) this.disk.write({ kind: 'entries', entries: ready.entries });
  }

  /** Steps 3 and 5 of the Ready contract, and step 4 after a snapshot, once the writes are durable. */
  private finish(ready: Ready, sentEarly: Ready['messages']): void {
    const node = this.node;
    assert(node !== undefined, 'a live replica finishes its Ready');
    this.observer.detail?.(`${this.id} ${describeReady(ready)}`);
    if (this.firstEntriesAsLeader(ready, node)) {
      this.persistedAsLeaderIn = node.term;
      if (this.observer.crashBeforeFirstSend(this.id)) return;
    }
    for (const message of ready.messages) if (!sentEarly.includes(message)) this.sendMessage(message);
    if (ready.snapshot !== undefined) {
      this.machine.restore(this.disk.snapshot().data);
      // Only this one: a newer snapshot may have arrived while it was being written.
      this.incomingSnapshots.delete(snapshotKey(ready.snapshot));
      this.observer.restored(this.id, ready.snapshot, this.machine);
      this.applyCommitted(ready);
    }
    if (ready.readStates.length > 0) this.observer.readStates(this.id, ready.readStates);
    node.advance(ready);
    this.processing = false;
    this.maybeCompact(node);
    this.afterInput();
    const hard = ready.hardState;
    if (
      hard !== undefined &&
      hard.vote !== '' &&
      hard.vote !== this.id &&
      `${hard.term}/${hard.vote}` !== this.lastVote
    ) {
      this.lastVote = `${hard.term}/${hard.vote}`;
      this.observer.voted(this.id);
    }
    if (
      this.node?.role === 'leader' &&
      ready.committedEntries.length > 0 &&
      this.committedAsLeaderIn !== this.node.term
    ) {
      this.committedAsLeaderIn = this.node.term;
      this.observer.leaderFirstCommit(this.id);
    }
  }

  private applyCommitted(ready: Ready): void {
    for (const entry of ready.committedEntries) {
      if (entry.index <= this.machine.index) continue;
      assert(entry.index === this.machine.index + 1, `${this.id} applies entries in order`);
      this.machine.apply(entry);
      this.observer.applied(this.id, entry, this.machine);
    }
  }

  private sendMessage(message: Ready['messages'][number]): void {
    if (message.type === 'heartbeat') this.heartbeatSentAt.set(message.to, this.scheduler.now);
    this.send(this.packetFor(message));
  }

  private packetFor(message: Ready['messages'][number]): Packet {
    if (message.type !== 'snap') return { message };
    const stored = this.disk.snapshotAt(message.snapshot.index);
    assert(stored !== undefined, 'the leader still stores the snapshot it sends');
    const generation = this.generation;
    // A real snapshot stream ends in success or failure; tell Raft which.
    const onOutcome = (delivered: boolean): void => {
      if (generation !== this.generation) return;
      this.node?.reportSnapshot(message.to, delivered);
      this.afterInput();
    };
    return { message, snapshotData: stored.data, onOutcome };
  }

  private maybeCompact(node: RaftNode): void {
    const status = node.status();
    if (status.applied - (status.firstIndex - 1) < this.options.compactEveryEntries) return;
    const meta = node.appliedSnapshotMeta();
    const keepFrom = Math.max(status.firstIndex, meta.index + 1 - this.options.keepEntries);
    this.disk.saveSnapshotNow({ meta, data: this.machine.snapshot() }, keepFrom);
    node.compact(meta, keepFrom);
    this.observer.trace(`${this.id} snapshot at ${meta.term}/${meta.index}, log from ${keepFrom}`);
  }
}

function snapshotKey(meta: SnapshotMeta): string {
  return `${meta.term}/${meta.index}`;
}

function describeReady(ready: Ready): string {
  const parts: string[] = [];
  const h = ready.hardState;
  if (h !== undefined) parts.push(`hard=${h.term}/${h.vote || '-'}/${h.commit}`);
  if (ready.snapshot !== undefined) parts.push(`snap=${snapshotKey(ready.snapshot)}`);
  const first = ready.entries[0];
  const last = ready.entries.at(-1);
  if (first !== undefined && last !== undefined)
    parts.push(`persist=${first.term}/${first.index}..${last.term}/${last.index}`);
  const c0 = ready.committedEntries[0];
  const c1 = ready.committedEntries.at(-1);
  if (c0 !== undefined && c1 !== undefined) parts.push(`apply=${c0.index}..${c1.index}`);
  const sent = ready.messages.map(
    (m) =>
      `${m.type}>${m.to}${m.type === 'appResp' ? `:${m.reject ? 'R' : ''}${m.index}` : ''}${m.type === 'app' ? `:${m.index}+${m.entries.length}c${m.commit}` : ''}`,
  );
  if (sent.length > 0) parts.push(`send=${sent.join(',')}`);
  return parts.join(' ');
}
