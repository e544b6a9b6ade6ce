import { assert } from '../../core/assert.ts';
import { isWeftError } from '../../core/errors.ts';
import { createPrng, type Prng } from '../../core/prng.ts';
import { genesisState } from '../../raft/bootstrap.ts';
import type { NodeId } from '../../raft/types.ts';
import { Scheduler } from '../core/scheduler.ts';
import { ChainMachine } from './chain-machine.ts';
import { SimNetwork } from './network.ts';
import { drawOptions, drawDelay, type SimOptions } from './options.ts';
import { SimReplica } from './replica.ts';

/**
 * The failover experiment: a cluster under a steady write load loses its
 * leader at a random moment; what clients see is the time from the crash to
 * the first write committed after it. Raft and S-Raft run with the same
 * heartbeat, network and disk, so the difference is the algorithm's.
 */
export interface FailoverSettings {
  readonly mode: 'raft' | 's-raft';
  readonly heartbeatMs: number;
  /** One-way network delay: minimum plus an exponential tail with this mean. */
  readonly latencyMinMs: number;
  readonly latencyMeanMs: number;
  readonly fsyncMinMs: number;
  readonly fsyncMeanMs: number;
  readonly nodes: number;
  /** A killed process's connections are reset, so peers and clients notice at once (SIGKILL on one host). */
  readonly crashHint: boolean;
  readonly clients: number;
}

export const loopbackFailover: FailoverSettings = {
  mode: 's-raft',
  heartbeatMs: 10,
  latencyMinMs: 0.05,
  latencyMeanMs: 0.05,
  fsyncMinMs: 0.5,
  fsyncMeanMs: 1,
  nodes: 3,
  crashHint: true,
  clients: 4,
};

export interface TrialResult {
  /** Crash to the first write committed after it, as a client saw it. */
  readonly unavailableMs: number;
  /** Crash to the first member campaigning (pre-vote or vote). */
  readonly detectedMs: number;
  /** Crash to a new leader. */
  readonly electedMs: number;
}

/** Long enough for the first election and a settled ranking, whatever the heartbeat. */
const warmupHeartbeats = 100;
const trialLimitMs = 30_000;

class FailoverHarness {
  readonly scheduler = new Scheduler();
  readonly replicas = new Map<NodeId, SimReplica>();
  private readonly network: SimNetwork;
  /** Leadership changes seen (after the first leader). */
  leaderChanges = 0;
  private leaderSeen = false;
  firstCampaignAt = Infinity;
  firstLeaderAt = Infinity;
  private readonly waiting = new Map<string, { term: number; done: () => void }>();
  lastAckAt = -Infinity;
  acks = 0;

  constructor(
    readonly settings: FailoverSettings,
    readonly prng: Prng,
    private readonly trace?: (line: string) => void,
  ) {
    const options = simOptionsFor(settings);
    this.network = new SimNetwork(this.scheduler, prng.fork(), options.network, (to, packet) =>
      this.replicas.get(to)?.receive(packet),
    );
    const ids = Array.from({ length: settings.nodes }, (_, i) => `n${i + 1}`);
    const genesis = genesisState(ids);
    for (const id of ids) {
      const replica = new SimReplica(
        id,
        genesis,
        options,
        this.scheduler,
        prng.fork(),
        (packet) => this.network.send(packet),
        {
          statusChanged: (node, role, term) => {
            this.trace?.(`${this.scheduler.now.toFixed(3)} ${node} ${role} term=${term}`);
            this.onRole(role);
          },
          applied: (node, entry) => {
            const waiter = this.waiting.get(`${node}:${entry.index}`);
            if (waiter === undefined) return;
            this.waiting.delete(`${node}:${entry.index}`);
            if (waiter.term === entry.term) waiter.done();
          },
          restored: () => undefined,
          readStates: () => undefined,
          voted: () => undefined,
          leaderFirstCommit: () => undefined,
          crashBeforeFirstSend: () => false,
          trace: () => undefined,
          ...(trace !== undefined
            ? { detail: (line: string) => trace(`${this.scheduler.now.toFixed(3)} ${line}`) }
            : {}),
        },
        () => new ChainMachine(),
      );
      this.replicas.set(id, replica);
    }
  }

  private onRole(role: string): void {
    if (role === 'preCandidate' || role === 'candidate')
      this.firstCampaignAt = Math.min(this.firstCampaignAt, this.scheduler.now);
    if (role !== 'leader') return;
    this.firstLeaderAt = Math.min(this.firstLeaderAt, this.scheduler.now);
    if (this.leaderSeen) this.leaderChanges += 1;
    this.leaderSeen = true;
  }

  leader(): SimReplica | undefined {
    return [...this.replicas.values()].find((r) => r.node?.role === 'leader');
  }

  /** A client: one write at a time to whoever leads; on a crash or no answer it asks again. */
  startClient(thinkMs: number): void {
    let counter = 0;
    const write = (): void => {
      counter += 1;
      this.writeOnce(`w${counter}`, () => {
        this.acks += 1;
        this.lastAckAt = this.scheduler.now;
        this.scheduler.after(thinkMs, write);
      });
    };
    this.scheduler.after(1, write);
  }

  private writeOnce(value: string, acknowledged: () => void): void {
    const retry = (): void => void this.scheduler.after(1, () => this.writeOnce(value, acknowledged));
    const target = this.leader();
    if (target === undefined) {
      retry();
      return;
    }
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      acknowledged();
    };
    try {
      const proposed = target.propose(new TextEncoder().encode(value));
      this.waiting.set(`${target.id}:${proposed.lastIndex}`, { term: proposed.term, done });
    } catch (error) {
      if (!isWeftError(error)) throw error;
      retry();
      return;
    }
    // A client waits for its answer; if its server dies or the answer is lost
    // to a leader change, it sends the write again. A reset connection tells
    // it at once (within a network delay); otherwise its own timeout, taken
    // here as one heartbeat interval, does.
    const checkEveryMs = this.settings.crashHint
      ? this.settings.latencyMinMs + this.settings.latencyMeanMs
      : this.settings.heartbeatMs;
    const check = (): void => {
      if (settled) return;
      if (!target.alive || target.node?.role !== 'leader') {
        settled = true;
        retry();
        return;
      }
      this.scheduler.after(checkEveryMs, check);
    };
    this.scheduler.after(checkEveryMs, check);
  }

  crash(victim: SimReplica): void {
    victim.crash();
    if (!this.settings.crashHint) return;
    for (const peer of this.replicas.values()) {
      if (peer === victim) continue;
      const delay = drawDelay(this.prng, this.settings.latencyMinMs, this.settings.latencyMeanMs);
      this.scheduler.after(delay, () => peer.connectionLost(victim.id));
    }
  }
}

function simOptionsFor(settings: FailoverSettings): SimOptions {
  return drawOptions(0, {
    nodes: settings.nodes,
    tickMs: settings.heartbeatMs,
    electionTicks: 10,
    heartbeatTicks: 1,
    promotionTicks: 3,
    preVote: true,
    checkQuorum: true,
    consensus: settings.mode,
    clockDrift: 0.01,
    fsyncMinMs: settings.fsyncMinMs,
    fsyncMeanMs: settings.fsyncMeanMs,
    compactEveryEntries: 10_000,
    keepEntries: 100,
    maxSizePerMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    network: {
      delayMinMs: settings.latencyMinMs,
      delayMeanMs: settings.latencyMeanMs,
      lossRate: 0,
      duplicateRate: 0,
      partitionsPerSec: 0,
      clogsPerSec: 0,
    },
  });
}

/** One trial: warm up, crash the leader at a random moment under load, time the recovery. */
export function runFailoverTrial(
  seed: number,
  settings: FailoverSettings,
  trace?: (line: string) => void,
): TrialResult {
  const prng = createPrng(seed);
  const harness = new FailoverHarness(settings, prng, trace);
  for (let i = 0; i < settings.clients; i += 1) harness.startClient(0);
  const crashAt = (warmupHeartbeats + prng.next() * 20) * settings.heartbeatMs;
  harness.scheduler.runUntil(crashAt);
  const victim = harness.leader();
  assert(victim !== undefined, 'a leader exists after the warm-up');
  const crashedAt = harness.scheduler.now;
  trace?.(`${crashedAt.toFixed(3)} CRASH ${victim.id} (successors ${victim.node?.successors().join(',')})`);
  harness.crash(victim);
  harness.firstCampaignAt = Infinity;
  harness.firstLeaderAt = Infinity;
  harness.scheduler.runUntil(crashedAt + trialLimitMs, () => harness.lastAckAt > crashedAt);
  return {
    unavailableMs: harness.lastAckAt - crashedAt,
    detectedMs: harness.firstCampaignAt - crashedAt,
    electedMs: harness.firstLeaderAt - crashedAt,
  };
}

/** Leader changes in a fault-free run of `durationMs` under a light write load: each one is a false election. */
export function countFalseElections(
  seed: number,
  settings: FailoverSettings,
  durationMs: number,
  trace?: (line: string) => void,
): number {
  const harness = new FailoverHarness(settings, createPrng(seed), trace);
  harness.startClient(settings.heartbeatMs);
  harness.scheduler.runUntil(durationMs);
  return harness.leaderChanges;
}
