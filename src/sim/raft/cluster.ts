import { AssertionFailure } from '../../core/assert.ts';
import { isWeftError } from '../../core/errors.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import { applyConfChange, decodeConfChange, isMember, type ConfChange } from '../../raft/conf-change.ts';
import { genesisState, joiningState, type InitialState } from '../../raft/bootstrap.ts';
import type { ConfState, Entry, NodeId } from '../../raft/types.ts';
import { Scheduler } from '../core/scheduler.ts';
import { ChainMachine } from './chain-machine.ts';
import { SafetyChecker, type Violation } from './checkers.ts';
import { KvMachine } from './kv-machine.ts';
import { defaultKvWorkload, KvWorkload } from './kv-workload.ts';
import { SimNetwork, type Packet } from './network.ts';
import { drawDelay, type SimOptions } from './options.ts';
import { SimReplica } from './replica.ts';

export interface RunStats {
  /** KV workload: operations recorded, and how many ended with an unknown outcome. */
  kvOperations: number;
  kvUnknown: number;
  /** KV workload: histories the checker could not decide within its step budget. */
  linUndecided: number;
  elections: number;
  commits: number;
  acked: number;
  crashes: number;
  partitions: number;
  clogs: number;
  confChanges: number;
  messages: number;
  lost: number;
  events: number;
  recoveryMs: number;
}

export interface RunResult {
  readonly options: SimOptions;
  readonly violations: readonly Violation[];
  readonly stats: RunStats;
  readonly trace: readonly string[];
}

const traceKept = 400;
const maxOutstanding = 20;
const clientTimeoutMs = 2_000;
const logMatchingEveryMs = 250;

/**
 * One simulated run: a safety phase with faults drawn from the seed, then a
 * liveness phase on a healed, calm network in which every member restarts
 * and a new write must commit everywhere. Checkers watch throughout.
 */
export class SimCluster {
  readonly scheduler = new Scheduler();
  private readonly prng: Prng;
  private readonly network: SimNetwork;
  private readonly replicas = new Map<NodeId, SimReplica>();
  private readonly checker: SafetyChecker;
  /** Membership as committed: the ground truth of who belongs. */
  private conf: ConfState;
  private readonly removed = new Set<NodeId>();
  private confAppliedAt = 0;
  private readonly pending = new Map<string, { proposer: NodeId; index: number; term: number; atMs: number }>();
  private nextId: number;
  private valueCounter = 0;
  private faultsOn = true;
  private readonly traceLines: string[] = [];
  private readonly kv: KvWorkload | undefined;
  readonly stats: RunStats = {
    kvOperations: 0,
    kvUnknown: 0,
    linUndecided: 0,
    elections: 0,
    commits: 0,
    acked: 0,
    crashes: 0,
    partitions: 0,
    clogs: 0,
    confChanges: 0,
    messages: 0,
    lost: 0,
    events: 0,
    recoveryMs: 0,
  };

  constructor(
    private readonly options: SimOptions,
    private readonly traceAll?: (line: string) => void,
  ) {
    this.prng = createPrng(options.seed ^ 0x5eed);
    this.network = new SimNetwork(this.scheduler, this.prng.fork(), options.network, (to, packet) =>
      this.deliver(to, packet),
    );
    this.checker = new SafetyChecker(
      () => this.scheduler.now,
      (id) => this.replicas.get(id),
    );
    if (options.workload === 'kv') {
      this.kv = new KvWorkload(
        {
          scheduler: this.scheduler,
          prng: this.prng.fork(),
          liveReplicas: () => [...this.replicas.values()].filter((r) => r.alive && !this.removed.has(r.id)),
          replica: (id) => this.replicas.get(id),
        },
        { ...defaultKvWorkload, readWithoutIndex: options.mutations.readWithoutIndex === true },
      );
    }
    const voters = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    this.conf = { voters, learners: [] };
    this.nextId = options.nodes + 1;
    const genesis = genesisState(voters);
    for (const id of voters) this.addReplica(id, genesis);
  }

  run(): RunResult {
    try {
      this.runPhases();
    } catch (error) {
      // An invariant the code asserts broke (a planted bug's damage can get
      // there before a checker sees it): this seed's violation, with its
      // trace and replay line, not the end of the whole sweep.
      if (!(error instanceof AssertionFailure)) throw error;
      this.checker.fail('invariant', error.message);
    }
    this.stats.elections = this.checker.elections;
    this.stats.commits = this.checker.maxCommitted;
    this.stats.messages = this.network.stats.sent;
    this.stats.lost = this.network.stats.lost;
    this.stats.events = this.scheduler.eventsRun;
    return { options: this.options, violations: this.checker.violations, stats: this.stats, trace: this.traceLines };
  }

  private runPhases(): void {
    this.scheduleFaults();
    if (this.kv !== undefined) this.kv.start();
    else this.scheduleProposals();
    this.scheduleLogMatching();
    this.scheduler.runUntil(this.options.safetyMs, () => this.checker.violations.length > 0);
    this.kv?.stop();
    if (this.checker.violations.length === 0) this.runLiveness();
    this.checker.checkLogMatching([...this.replicas.values()]);
    if (this.kv !== undefined && this.checker.violations.length === 0) this.checkHistory(this.kv);
  }

  /** Judge the KV clients' whole history (Wing & Gong with Lowe's memoization, by key). */
  private checkHistory(kv: KvWorkload): void {
    const history = kv.recorder.history();
    this.stats.kvOperations = history.length;
    this.stats.kvUnknown = history.filter((op) => op.return === undefined).length;
    const result = kv.check();
    if (result.verdict === 'violation') this.checker.fail('linearizability', result.explanation);
    if (result.verdict === 'unknown') this.stats.linUndecided += 1;
  }

  private addReplica(id: NodeId, initial: InitialState): void {
    const replica = new SimReplica(
      id,
      initial,
      this.options,
      this.scheduler,
      this.prng.fork(),
      (packet) => this.network.send(packet),
      {
        statusChanged: (node, role, term) => {
          const conf = this.replicas.get(node)?.node?.status().conf;
          this.trace(`${node} ${role} term=${term} voters=${conf?.voters.join(',') ?? '?'}`);
          this.checker.statusChanged(node, role, term);
        },
        applied: (node, entry, machine) => {
          this.checker.applied(node, entry, machine);
          this.onApplied(node, entry);
          const replica = this.replicas.get(node);
          if (replica !== undefined) this.kv?.onApplied(replica, entry);
        },
        readStates: (node, states) => {
          const replica = this.replicas.get(node);
          if (replica !== undefined) this.kv?.onReadStates(replica, states);
        },
        // A voter restarts at once (the forgotten vote must meet a rival's request);
        // a crashed new leader stays down as long as any crashed member.
        voted: (node) => this.maybeCrashAt(node, this.options.crashAfterVoteRate, 5),
        leaderFirstCommit: (node) =>
          this.maybeCrashAt(node, this.options.crashAfterFirstCommitRate, this.options.restartMeanMs),
        crashBeforeFirstSend: (node) =>
          this.maybeCrashAt(node, this.options.crashAfterElectionRate, this.options.restartMeanMs),
        restored: (node, meta, machine) => {
          this.trace(`${node} restored snapshot ${meta.term}/${meta.index}`);
          this.checker.restored(node, meta, machine);
        },
        trace: (line) => this.trace(line),
        ...(this.traceAll !== undefined ? { detail: (line: string) => this.trace(line) } : {}),
      },
      this.options.workload === 'kv' ? () => new KvMachine() : () => new ChainMachine(),
    );
    this.replicas.set(id, replica);
  }

  private deliver(to: NodeId, packet: Packet): void {
    // Like etcd's transport, members drop traffic from and to removed members.
    if (this.removed.has(to) || this.removed.has(packet.message.from)) return;
    this.replicas.get(to)?.receive(packet);
  }

  // ---- workload -------------------------------------------------------------

  /**
   * Clients that wait: at most maxOutstanding proposals are unanswered at a
   * time, each given up after clientTimeoutMs, so a slow cluster is not
   * buried under an ever-growing backlog (which no real client produces).
   */
  private scheduleProposals(): void {
    const next = (): void => {
      if (!this.faultsOn) return;
      for (const [value, waiting] of this.pending) {
        if (this.scheduler.now - waiting.atMs > clientTimeoutMs) this.pending.delete(value);
      }
      if (this.pending.size < maxOutstanding) this.proposeSomewhere(`v${(this.valueCounter += 1)}`);
      this.scheduler.after(drawDelay(this.prng, 0, 1_000 / this.options.proposalsPerSec), next);
    };
    this.scheduler.after(10, next);
  }

  /**
   * Propose at a random live member, following its leader hint once, as a
   * client does. True if a leader took it. (Roles are read first: a
   * NotLeaderError per attempt would cost more than the rest of the run.)
   */
  private proposeSomewhere(value: string): boolean {
    const live = [...this.replicas.values()].filter((r) => r.alive && !this.removed.has(r.id));
    if (live.length === 0) return false;
    const first = this.prng.pick(live);
    const status = first.node?.status();
    const target = status?.role === 'leader' ? first : this.replicas.get(status?.leader ?? '');
    if (target?.node?.status().role !== 'leader') return false;
    try {
      const proposed = target.propose(new TextEncoder().encode(value));
      const atMs = this.scheduler.now;
      this.pending.set(value, { proposer: target.id, index: proposed.lastIndex, term: proposed.term, atMs });
      return true;
    } catch (error) {
      if (isWeftError(error)) return false;
      throw error;
    }
  }

  private onApplied(node: NodeId, entry: Entry): void {
    if (entry.kind === 'config') {
      this.onConfApplied(entry.index, decodeConfChange(entry.data));
      return;
    }
    if (entry.kind !== 'normal') return;
    const value = new TextDecoder().decode(entry.data);
    const waiting = this.pending.get(value);
    if (
      waiting !== undefined &&
      waiting.proposer === node &&
      waiting.index === entry.index &&
      waiting.term === entry.term
    ) {
      this.pending.delete(value);
      this.stats.acked += 1;
    }
  }

  // ---- membership -----------------------------------------------------------

  /** Committed changes apply everywhere in index order; the first replica to apply one moves the ground truth. */
  private onConfApplied(index: number, change: ConfChange): void {
    if (index <= this.confAppliedAt) return;
    this.confAppliedAt = index;
    const next = tryApply(this.conf, change);
    if (next === undefined) return;
    this.conf = next;
    this.trace(`conf now voters=${next.voters.join(',')} learners=${next.learners.join(',') || '-'}`);
    if (change.type === 'remove') this.removeMember(change.node);
  }

  private removeMember(id: NodeId): void {
    this.removed.add(id);
    this.replicas.get(id)?.crash();
  }

  private changeMembership(): void {
    const leader = this.currentLeader();
    if (leader === undefined) return;
    const change = this.pickConfChange(leader);
    if (change === undefined) return;
    try {
      leader.withNode((node) => node.proposeConfChange(change));
      this.stats.confChanges += 1;
      this.trace(`propose conf change ${change.type} ${change.node} at ${leader.id}`);
      if (change.type === 'addLearner') {
        this.addReplica(change.node, joiningState());
      }
    } catch (error) {
      if (!isWeftError(error)) throw error;
    }
  }

  private pickConfChange(leader: SimReplica): ConfChange | undefined {
    const { voters, learners } = this.conf;
    const members = voters.length + learners.length;
    const caughtUp = learners.filter(
      (id) => (leader.node?.progressOf(id)?.match ?? 0) >= (leader.node?.status().commit ?? 0),
    );
    const choice = this.prng.int(0, 2);
    if (choice === 0 && members < this.options.maxMembers) {
      return { type: 'addLearner', node: `n${this.nextId++}`, context: '' };
    }
    if (choice === 1 && caughtUp.length > 0) return { type: 'promote', node: this.prng.pick(caughtUp), context: '' };
    const removable = [...learners, ...(voters.length > 3 ? voters : [])];
    if (removable.length === 0) return undefined;
    return { type: 'remove', node: this.prng.pick(removable), context: '' };
  }

  private currentLeader(): SimReplica | undefined {
    let best: SimReplica | undefined;
    for (const r of this.replicas.values()) {
      const s = r.node?.status();
      if (s?.role !== 'leader' || this.removed.has(r.id)) continue;
      if (best === undefined || s.term > (best.node?.status().term ?? 0)) best = r;
    }
    return best;
  }

  // ---- faults ---------------------------------------------------------------

  private scheduleFaults(): void {
    const o = this.options;
    this.poisson(o.crashesPerSec, () => this.crashOne());
    this.poisson(o.network.partitionsPerSec, () => this.partition());
    this.poisson(o.network.clogsPerSec, () => this.clog());
    this.poisson(o.confChangesPerSec, () => this.changeMembership());
  }

  /** Run `action` at random times, `perSec` per simulated second on average, while faults are on. */
  private poisson(perSec: number, action: () => void): void {
    if (perSec <= 0) return;
    const next = (): void => {
      if (!this.faultsOn) return;
      action();
      this.scheduler.after(drawDelay(this.prng, 0, 1_000 / perSec), next);
    };
    this.scheduler.after(drawDelay(this.prng, 0, 1_000 / perSec), next);
  }

  private crashOne(): void {
    const live = [...this.replicas.values()].filter((r) => r.alive && !this.removed.has(r.id));
    if (live.length === 0) return;
    const victim = this.prng.pick(live);
    this.crash(victim);
    this.scheduler.after(drawDelay(this.prng, 10, this.options.restartMeanMs), () => {
      if (!this.faultsOn || victim.alive || this.removed.has(victim.id)) return;
      this.trace(`${victim.id} RESTART`);
      victim.start();
    });
  }

  /**
   * Crash points, as the VOPR has: at a moment where bugs hide (just after
   * voting, just after a new leader persists or commits its first entries),
   * crash with probability `rate`; restart after about `restartMeanMs`.
   */
  private maybeCrashAt(id: NodeId, rate: number, restartMeanMs: number): boolean {
    if (!this.faultsOn || !this.prng.chance(rate)) return false;
    const replica = this.replicas.get(id);
    if (replica === undefined || !replica.alive) return false;
    this.crash(replica);
    this.scheduler.after(drawDelay(this.prng, 1, restartMeanMs), () => {
      if (replica.alive || this.removed.has(id)) return;
      this.trace(`${id} RESTART`);
      replica.start();
    });
    return true;
  }

  /**
   * Crash a member. A process that dies has its TCP connections reset by the
   * operating system, so (with probability crashHintRate) each peer's
   * transport notices within about one network delay; a host that dies
   * gives no such hint.
   */
  crash(victim: SimReplica): void {
    victim.crash();
    this.stats.crashes += 1;
    if (!this.prng.chance(this.options.crashHintRate)) return;
    for (const peer of this.replicas.values()) {
      if (peer === victim || !peer.alive) continue;
      const delay = drawDelay(this.prng, this.options.network.delayMinMs, this.options.network.delayMeanMs);
      this.scheduler.after(delay, () => peer.connectionLost(victim.id));
    }
  }

  private partition(): void {
    const ids = [...this.replicas.keys()].filter((id) => !this.removed.has(id));
    const side = ids.filter(() => this.prng.chance(0.5));
    if (side.length === 0 || side.length === ids.length) return;
    const other = ids.filter((id) => !side.includes(id));
    const oneWay = this.prng.chance(this.options.network.asymmetricShare);
    for (const a of side) {
      for (const b of other) {
        this.network.cut(a, b);
        if (!oneWay) this.network.cut(b, a);
      }
    }
    this.stats.partitions += 1;
    this.trace(`PARTITION ${side.join(',')} ${oneWay ? '-/->' : '<-/->'} ${other.join(',')}`);
    this.scheduler.after(drawDelay(this.prng, 50, this.options.network.partitionMeanMs), () => {
      if (!this.faultsOn) return;
      this.network.heal();
      this.trace('HEAL');
    });
  }

  private clog(): void {
    const ids = [...this.replicas.keys()];
    const from = this.prng.pick(ids);
    const to = this.prng.pick(ids);
    if (from === to) return;
    this.network.clog(from, to, this.scheduler.now + drawDelay(this.prng, 10, this.options.network.clogMeanMs));
    this.stats.clogs += 1;
  }

  private scheduleLogMatching(): void {
    const check = (): void => {
      this.checker.checkLogMatching([...this.replicas.values()]);
      if (this.scheduler.now < this.options.safetyMs) this.scheduler.after(logMatchingEveryMs, check);
    };
    this.scheduler.after(logMatchingEveryMs, check);
  }

  // ---- liveness -------------------------------------------------------------

  /**
   * Heal everything, restart every member, stop faults; then a new write
   * must commit and reach every member within livenessMs.
   */
  private runLiveness(): void {
    this.faultsOn = false;
    this.network.calm();
    this.trace('LIVENESS: healed, restarting every member');
    for (const replica of this.replicas.values()) {
      if (!replica.alive && !this.removed.has(replica.id) && isMember(this.conf, replica.id)) replica.start();
    }
    const started = this.scheduler.now;
    const deadline = started + this.options.livenessMs;
    const marker = 'liveness-marker';
    let proposed = false;
    while (this.scheduler.now < deadline) {
      if (!proposed) proposed = this.proposeSomewhere(marker);
      this.scheduler.runUntil(this.scheduler.now + 50);
      if (proposed && this.pending.has(marker) === false && this.allMembersApplied()) {
        this.stats.recoveryMs = this.scheduler.now - started;
        return;
      }
      // A proposal that a deposed leader took may never commit: offer it again.
      if (proposed && this.pending.has(marker) && !this.proposerStillLeads(marker)) proposed = false;
    }
    this.checker.fail(
      'liveness',
      `no commit reached every member within ${this.options.livenessMs} ms of healing (members ${[
        ...this.conf.voters,
        ...this.conf.learners,
      ].join(',')}; leader ${this.currentLeader()?.id ?? 'none'})`,
    );
  }

  private proposerStillLeads(value: string): boolean {
    const waiting = this.pending.get(value);
    const node = waiting === undefined ? undefined : this.replicas.get(waiting.proposer)?.node;
    return node?.status().role === 'leader' && node.status().term === waiting?.term;
  }

  private allMembersApplied(): boolean {
    const target = this.checker.maxCommitted;
    return [...this.conf.voters, ...this.conf.learners].every(
      (id) => (this.replicas.get(id)?.machine.index ?? 0) >= target,
    );
  }

  private trace(line: string): void {
    const text = `${(this.scheduler.now / 1000).toFixed(3).padStart(8)}s ${line}`;
    this.traceAll?.(text);
    this.traceLines.push(text);
    if (this.traceLines.length > traceKept) this.traceLines.shift();
  }
}

function tryApply(conf: ConfState, change: ConfChange): ConfState | undefined {
  try {
    return applyConfChange(conf, change);
  } catch {
    return undefined;
  }
}
