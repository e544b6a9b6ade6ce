import { assert } from '../../core/assert.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import { findSuccessorStep, type FindSuccessorReply, type FindSuccessorRequest } from '../../koorde/find-successor.ts';
import { createIdSpace, type Id, type IdSpace } from '../../koorde/id-space.ts';
import { LookupRun } from '../../koorde/lookup-run.ts';
import { applyLeave, applyNotify, applySuccessorHint, neighbourState } from '../../koorde/maintenance.ts';
import { RoutingTable, type NodeRef, type RoutingLimits } from '../../koorde/routing-table.ts';
import { defaultIntervalsTicks, MaintenanceSchedule } from '../../koorde/schedule.ts';
import { chordStep, chordTable, type ChordTable } from './chord.ts';
import { EventQueue } from './event-queue.ts';
import { driveLookup, type LookupOutcome } from './lookup-driver.ts';
import { RingOracle, stableTable } from './ring.ts';
import { fixWindow, runMaintenance, SimKoordeNode, type KoordeContext } from './sim-node.ts';
import { SimNetwork, type NetworkOptions } from './sim-network.ts';
import { mean, percentile } from './stats.ts';

export interface SimConfig {
  readonly protocol: 'koorde' | 'chord';
  readonly nodes: number;
  readonly bits: number;
  readonly degree: number;
  readonly successorListLength: number;
  readonly seed: number;
  readonly lookups: number;
  /** Fractions of the live nodes that crash, leave gracefully, and join, per stabilization round. */
  readonly crashPerRound: number;
  readonly leavePerRound: number;
  readonly joinPerRound: number;
  readonly warmupRounds: number;
  readonly measureRounds: number;
  /** One stabilization round: every maintenance interval counts in rounds. */
  readonly roundTicks: number;
  readonly network: NetworkOptions;
}

export const defaultSimConfig: SimConfig = {
  protocol: 'koorde',
  nodes: 1000,
  bits: 64,
  degree: 8,
  successorListLength: 8,
  seed: 1,
  lookups: 2000,
  crashPerRound: 0,
  leavePerRound: 0,
  joinPerRound: 0,
  warmupRounds: 2,
  measureRounds: 5,
  roundTicks: 1000,
  network: { latencyMinTicks: 5, latencyMaxTicks: 25, timeoutTicks: 200 },
};

export interface SimResult {
  readonly config: SimConfig;
  readonly lookups: number;
  readonly correct: number;
  readonly wrong: number;
  readonly failed: number;
  readonly hopsMean: number;
  readonly hopsP99: number;
  readonly messagesPerLookup: number;
  readonly latencyMedianTicks: number;
  readonly latencyP99Ticks: number;
  /** Why failed lookups failed: attempt-limit, no-route. */
  readonly failureReasons: Readonly<Record<string, number>>;
  readonly crashes: number;
  readonly leaves: number;
  readonly joins: number;
  readonly finalNodes: number;
}

const candidatesPerHop = 4;

/**
 * Up to 10,000 Koorde (or Chord) nodes in one process over a simulated
 * network, from one seed. The ring starts stable; churn then crashes,
 * removes and joins nodes through the real protocol, and every lookup's
 * answer is checked against the oracle: the true successor of the key
 * among the members at the moment the answer arrives.
 */
export function simulate(config: SimConfig, options: SimOptions = {}): SimResult {
  return new Simulation(config, options).run();
}

export interface SimOptions {
  /** Replace Koorde's find-successor step, to plant a bug the oracle must catch. */
  readonly step?: (table: RoutingTable, request: FindSuccessorRequest) => FindSuccessorReply;
}

class Simulation {
  private readonly prng: Prng;
  private readonly space: IdSpace;
  private readonly queue = new EventQueue();
  private readonly oracle = new RingOracle();
  private readonly koorde = new Map<Id, SimKoordeNode>();
  private readonly chord = new Map<Id, ChordTable>();
  private readonly outcomes: { outcome: LookupOutcome; correct: boolean }[] = [];
  private readonly ctx: KoordeContext;
  private readonly chordNet: SimNetwork<ChordTable>;
  private readonly limits: RoutingLimits;
  private counts = { crashes: 0, leaves: 0, joins: 0 };

  constructor(
    private readonly config: SimConfig,
    options: SimOptions,
  ) {
    assert(
      config.protocol === 'koorde' || config.crashPerRound + config.leavePerRound + config.joinPerRound === 0,
      'the Chord baseline runs on a stable ring only',
    );
    this.prng = createPrng(config.seed);
    this.space = createIdSpace(config.bits, config.degree);
    this.limits = { successorListLength: config.successorListLength, candidatesPerHop };
    const live = { live: (id: Id) => this.liveKoorde(id) };
    const net = new SimNetwork(this.queue, this.prng.fork(), config.network, live);
    this.ctx = {
      queue: this.queue,
      net,
      step: (node, request) => (options.step ?? findSuccessorStep)(node.table, request),
      judge: this.judge,
    };
    this.chordNet = new SimNetwork(this.queue, this.prng.fork(), config.network, {
      live: (id: Id) => (this.oracle.has(id) ? this.chord.get(id) : undefined),
    });
  }

  run(): SimResult {
    this.buildRing();
    const { roundTicks, warmupRounds, measureRounds } = this.config;
    const end = (warmupRounds + measureRounds) * roundTicks;
    this.scheduleChurn(end);
    for (let i = 0; i < this.config.lookups; i += 1) {
      const at = warmupRounds * roundTicks + this.prng.int(0, measureRounds * roundTicks - 1);
      this.queue.schedule(at, () => this.startLookup());
    }
    this.queue.runUntil(end + 100 * this.config.network.timeoutTicks);
    return this.summarize();
  }

  private ref = (id: Id): NodeRef => ({ id, address: id.toString(16) });

  private judge = (key: Id, owner: Id): boolean => this.oracle.size > 0 && this.oracle.successorOf(key) === owner;

  private liveKoorde(id: Id): SimKoordeNode | undefined {
    const node = this.koorde.get(id);
    return node?.alive === true ? node : undefined;
  }

  private randomId(): Id {
    let id = 0n;
    for (let i = 0; i < Math.ceil(this.config.bits / 32); i += 1)
      id = (id << 32n) | BigInt(this.prng.int(0, 0xffffffff));
    return id & (this.space.size - 1n);
  }

  private buildRing(): void {
    while (this.oracle.size < this.config.nodes) this.oracle.add(this.randomId());
    for (const id of this.oracle.ids()) {
      if (this.config.protocol === 'chord') {
        this.chord.set(id, chordTable(this.space, this.oracle, id, this.config.successorListLength, this.ref));
        continue;
      }
      const table = stableTable(this.space, this.oracle, id, this.ref, this.limits);
      this.startNode(new SimKoordeNode(table, new MaintenanceSchedule(defaultIntervalsTicks, this.prng)));
    }
  }

  private startNode(node: SimKoordeNode): void {
    this.koorde.set(node.id, node);
    const tick = (): void => {
      if (!node.alive) return;
      runMaintenance(this.ctx, node, node.schedule.tick());
      this.queue.schedule(this.config.roundTicks, tick);
    };
    this.queue.schedule(this.prng.int(0, this.config.roundTicks - 1), tick);
  }

  private scheduleChurn(end: number): void {
    const { crashPerRound, leavePerRound, joinPerRound, roundTicks, nodes } = this.config;
    const rounds = end / roundTicks;
    const plan: [number, () => void][] = [
      [crashPerRound, () => this.crashOne()],
      [leavePerRound, () => this.leaveOne()],
      [joinPerRound, () => this.joinOne()],
    ];
    for (const [rate, act] of plan) {
      const total = Math.round(rate * nodes * rounds);
      for (let i = 0; i < total; i += 1) this.queue.schedule(this.prng.int(0, end - 1), act);
    }
  }

  private randomMember(): SimKoordeNode | undefined {
    const ids = this.oracle.ids();
    if (ids.length <= 1) return undefined;
    return this.liveKoorde(this.prng.pick(ids));
  }

  private crashOne(): void {
    const node = this.randomMember();
    if (node === undefined) return;
    node.alive = false;
    this.oracle.remove(node.id);
    this.counts.crashes += 1;
  }

  private leaveOne(): void {
    const node = this.randomMember();
    if (node === undefined) return;
    const state = neighbourState(node.table);
    const self = node.table.self;
    for (const peer of [node.table.predecessor, node.table.successor()]) {
      if (peer !== undefined) this.ctx.net.send(peer.id, (p) => applyLeave(p.table, self, state));
    }
    node.alive = false;
    this.oracle.remove(node.id);
    this.counts.leaves += 1;
  }

  /**
   * The join of Koorde §3.4 (Chord's): find the successor through any
   * member, take its neighbours, find our own de Bruijn window before
   * taking part, then notify the successor and hint the predecessor.
   */
  private joinOne(): void {
    const bootstrap = this.randomMember();
    const id = this.randomId();
    if (bootstrap === undefined || this.koorde.has(id)) return;
    const table = new RoutingTable(this.space, this.ref(id), this.limits);
    const node = new SimKoordeNode(table, new MaintenanceSchedule(defaultIntervalsTicks, this.prng));
    this.koorde.set(id, node);
    driveLookup(this.ctx, LookupRun.through(id, [bootstrap.table.self]), (found) => {
      const successor = found.owner;
      if (successor === undefined) return;
      this.ctx.net.request(
        successor.id,
        (peer) => neighbourState(peer.table),
        (state) => {
          if (state === undefined) return;
          table.setSuccessors([successor, ...state.successors]);
          table.predecessor = state.predecessor;
          fixWindow(this.ctx, node, () => this.notifyJoin(node, successor));
        },
      );
    });
  }

  /**
   * The join takes effect when the successor accepts the new node as its
   * predecessor, and so stops claiming its keys: from then on it is a
   * member for the oracle. A join that raced with another is given up.
   */
  private notifyJoin(node: SimKoordeNode, successor: NodeRef): void {
    const notify = (peer: SimKoordeNode): boolean => {
      const accepted = applyNotify(peer.table, node.table.self);
      if (accepted) this.becomeMember(node);
      return accepted;
    };
    this.ctx.net.request(successor.id, notify, (accepted) => {
      const pred = node.table.predecessor;
      if (accepted !== true) node.alive = false;
      else if (pred !== undefined)
        this.ctx.net.send(pred.id, (peer) => applySuccessorHint(peer.table, node.table.self));
    });
  }

  private becomeMember(node: SimKoordeNode): void {
    this.oracle.add(node.id);
    this.counts.joins += 1;
    this.startNode(node);
  }

  private startLookup(): void {
    const key = this.randomId();
    const record = (outcome: LookupOutcome): void => {
      this.outcomes.push({ outcome, correct: outcome.correct });
    };
    if (this.config.protocol === 'chord') {
      const origin = this.chord.get(this.prng.pick(this.oracle.ids()));
      assert(origin !== undefined, 'every chord member has a table');
      const step = (table: ChordTable, request: FindSuccessorRequest) =>
        chordStep(this.space, table, request, candidatesPerHop);
      const run = new LookupRun(key, origin.self);
      run.accept(step(origin, { key }), false);
      driveLookup({ queue: this.queue, net: this.chordNet, step, judge: this.judge }, run, record);
      return;
    }
    const origin = this.randomMember() ?? this.liveKoorde(this.oracle.ids()[0] ?? 0n);
    assert(origin !== undefined, 'a live origin exists');
    const run = new LookupRun(key, origin.table.self);
    run.accept(findSuccessorStep(origin.table, { key }), false);
    driveLookup(this.ctx, run, record);
  }

  private summarize(): SimResult {
    const answered = this.outcomes.filter((o) => o.outcome.owner !== undefined);
    const hops = answered.map((o) => o.outcome.hops);
    const latency = this.outcomes.map((o) => o.outcome.latencyTicks);
    const correct = this.outcomes.filter((o) => o.correct).length;
    const reasons: Record<string, number> = {};
    for (const { outcome } of this.outcomes) {
      if (outcome.failure !== undefined) reasons[outcome.failure] = (reasons[outcome.failure] ?? 0) + 1;
    }
    return {
      config: this.config,
      lookups: this.outcomes.length,
      correct,
      wrong: answered.length - correct,
      failed: this.outcomes.length - answered.length,
      hopsMean: mean(hops),
      hopsP99: percentile(hops, 99),
      messagesPerLookup: mean(this.outcomes.map((o) => o.outcome.messages)),
      latencyMedianTicks: percentile(latency, 50),
      latencyP99Ticks: percentile(latency, 99),
      failureReasons: reasons,
      ...this.counts,
      finalNodes: this.oracle.size,
    };
  }
}
