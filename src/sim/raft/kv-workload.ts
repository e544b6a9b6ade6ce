import { isWeftError } from '../../core/errors.ts';
import type { Prng } from '../../core/prng.ts';
import type { ReadState } from '../../raft/read-only.ts';
import type { Entry, NodeId } from '../../raft/types.ts';
import type { Scheduler } from '../core/scheduler.ts';
import {
  checkLinearizability,
  HistoryRecorder,
  kvModel,
  type CheckResult,
  type KvInput,
  type KvOutput,
} from '../linearizability/index.ts';
import { encodeWrite, KvMachine } from './kv-machine.ts';
import { drawDelay } from './options.ts';
import type { SimReplica } from './replica.ts';

export interface KvWorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  readonly opsPerClient: number;
  /** One try at one member; on no answer the client tries again (same sequence number). */
  readonly attemptTimeoutMs: number;
  /** After this the client gives up: the outcome is unknown, and the operation may still take effect. */
  readonly operationTimeoutMs: number;
  /** Planted bug: serve gets from the local state machine without ReadIndex. */
  readonly readWithoutIndex: boolean;
}

export const defaultKvWorkload: KvWorkloadOptions = {
  clients: 5,
  keys: ['a', 'b', 'c'],
  opsPerClient: 300,
  attemptTimeoutMs: 250,
  operationTimeoutMs: 2_000,
  readWithoutIndex: false,
};

interface Running {
  readonly opId: number;
  readonly input: KvInput;
  readonly seq: number;
  readonly deadlineMs: number;
  /** The current try; answers to any other try (of this or an earlier operation) are ignored. */
  attempt: number;
  /** Numbers the scheduled wake-ups; only the newest may start the next try. */
  wake: number;
}

interface WriteWaiter {
  readonly client: KvClient;
  readonly attempt: number;
  readonly term: number;
}

interface ReadWaiter {
  readonly client: KvClient;
  readonly attempt: number;
  readonly replica: NodeId;
  index?: number;
}

export interface KvHost {
  readonly scheduler: Scheduler;
  readonly prng: Prng;
  liveReplicas(): SimReplica[];
  replica(id: NodeId): SimReplica | undefined;
}

/**
 * Clients of the simulated key-value store: each runs one operation at a
 * time (put, get, compare-and-set, delete on a few keys), retries through
 * leader changes, and records every operation in a history that the
 * linearizability checker judges at the end. Gets use ReadIndex on any
 * member, so follower reads are exercised too.
 */
export class KvWorkload {
  readonly recorder: HistoryRecorder<KvInput, KvOutput>;
  private readonly clients: KvClient[];
  private readonly writeWaiters = new Map<string, WriteWaiter>();
  private readonly readWaiters = new Map<string, ReadWaiter>();
  private running = true;

  constructor(
    host: KvHost,
    readonly options: KvWorkloadOptions,
  ) {
    // Every event has its own number: a total order finer than simulated time.
    this.recorder = new HistoryRecorder(() => host.scheduler.eventsRun);
    this.clients = Array.from({ length: options.clients }, (_, i) => new KvClient(i + 1, this, host));
  }

  start(): void {
    for (const client of this.clients) client.schedule();
  }

  /** No new operations from now on; those in flight finish or time out. */
  stop(): void {
    this.running = false;
  }

  get accepting(): boolean {
    return this.running;
  }

  check(): CheckResult<KvInput, KvOutput> {
    return checkLinearizability(kvModel, this.recorder.history());
  }

  expectWrite(replica: NodeId, index: number, waiter: WriteWaiter): void {
    this.writeWaiters.set(`${replica}:${index}`, waiter);
  }

  expectRead(context: string, waiter: ReadWaiter): void {
    this.readWaiters.set(context, waiter);
  }

  onApplied(replica: SimReplica, entry: Entry): void {
    const key = `${replica.id}:${entry.index}`;
    const waiter = this.writeWaiters.get(key);
    if (waiter !== undefined) {
      this.writeWaiters.delete(key);
      const output = entry.term === waiter.term ? waiter.client.writeResult(replica) : undefined;
      waiter.client.finishAttempt(waiter.attempt, output);
    }
    this.serveReads(replica);
  }

  onReadStates(replica: SimReplica, states: readonly ReadState[]): void {
    for (const state of states) {
      const waiter = this.readWaiters.get(state.context);
      if (waiter === undefined) continue;
      if (state.index === 0) {
        this.readWaiters.delete(state.context);
        waiter.client.finishAttempt(waiter.attempt, undefined);
      } else {
        waiter.index = state.index;
      }
    }
    this.serveReads(replica);
  }

  /** Serve every read at `replica` whose index it has applied (thesis §6.4, step 4). */
  private serveReads(replica: SimReplica): void {
    for (const [context, waiter] of this.readWaiters) {
      if (waiter.replica !== replica.id || waiter.index === undefined || replica.machine.index < waiter.index) continue;
      this.readWaiters.delete(context);
      waiter.client.finishAttempt(waiter.attempt, waiter.client.readResult(replica));
    }
  }
}

class KvClient {
  private seq = 0;
  /** Numbers every try of every operation, so a late answer never matches a newer try. */
  private tries = 0;
  private done = 0;
  private current: Running | undefined;

  constructor(
    private readonly id: number,
    private readonly workload: KvWorkload,
    private readonly host: KvHost,
  ) {}

  schedule(): void {
    this.host.scheduler.after(drawDelay(this.host.prng, 0.1, 10), () => this.begin());
  }

  private begin(): void {
    if (!this.workload.accepting || this.done >= this.workload.options.opsPerClient) return;
    this.seq += 1;
    const input = this.chooseInput();
    const opId = this.workload.recorder.invoke(this.id, input);
    const deadlineMs = this.host.scheduler.now + this.workload.options.operationTimeoutMs;
    this.current = { opId, input, seq: this.seq, deadlineMs, attempt: 0, wake: 0 };
    this.tryOnce();
  }

  private chooseInput(): KvInput {
    const prng = this.host.prng;
    const key = prng.pick(this.workload.options.keys);
    const value = `${this.id}.${this.seq}`;
    const roll = prng.next();
    if (roll < 0.4) return { kind: 'get', key };
    if (roll < 0.7) return { kind: 'put', key, value };
    if (roll < 0.9)
      return {
        kind: 'cas',
        key,
        expected: prng.chance(0.5) ? null : `${prng.int(1, 5)}.${prng.int(1, this.seq)}`,
        value,
      };
    return { kind: 'delete', key };
  }

  private tryOnce(): void {
    const running = this.current;
    if (running === undefined) return;
    if (this.host.scheduler.now >= running.deadlineMs) {
      this.workload.recorder.unknown(running.opId);
      this.next();
      return;
    }
    this.tries += 1;
    running.attempt = this.tries;
    const attempt = running.attempt;
    const started = running.input.kind === 'get' ? this.startRead(attempt) : this.startWrite(attempt);
    // No answer in time (or no one to ask): try again.
    this.wakeAfter(started ? this.workload.options.attemptTimeoutMs : drawDelay(this.host.prng, 5, 20));
  }

  private wakeAfter(delayMs: number): void {
    const running = this.current;
    if (running === undefined) return;
    const wake = (running.wake += 1);
    this.host.scheduler.after(delayMs, () => {
      if (this.current === running && running.wake === wake) this.tryOnce();
    });
  }

  private startWrite(attempt: number): boolean {
    const running = this.current!;
    const target = this.leader();
    if (target === undefined) return false;
    try {
      const write = { client: this.id, seq: running.seq, input: running.input as Exclude<KvInput, { kind: 'get' }> };
      const proposed = target.propose(encodeWrite(write));
      this.workload.expectWrite(target.id, proposed.lastIndex, { client: this, attempt, term: proposed.term });
      return true;
    } catch (error) {
      if (isWeftError(error)) return false;
      throw error;
    }
  }

  private startRead(attempt: number): boolean {
    const live = this.host.liveReplicas();
    if (live.length === 0) return false;
    const target = this.host.prng.pick(live);
    if (this.workload.options.readWithoutIndex) {
      this.finishAttempt(attempt, this.readResult(target));
      return true;
    }
    const context = `c${this.id}.${attempt}`;
    try {
      target.withNode((node) => node.readIndex(context));
    } catch (error) {
      if (isWeftError(error)) return false;
      throw error;
    }
    this.workload.expectRead(context, { client: this, attempt, replica: target.id });
    return true;
  }

  /** Whoever leads, as a random live member believes, following one hint. */
  private leader(): SimReplica | undefined {
    const live = this.host.liveReplicas();
    if (live.length === 0) return undefined;
    const asked = this.host.prng.pick(live);
    const status = asked.node?.status();
    const target = status?.role === 'leader' ? asked : this.host.replica(status?.leader ?? '');
    return target?.node?.role === 'leader' ? target : undefined;
  }

  writeResult(replica: SimReplica): KvOutput | undefined {
    const machine = replica.machine;
    return machine instanceof KvMachine ? machine.result(this.id, this.current?.seq ?? -1) : undefined;
  }

  readResult(replica: SimReplica): KvOutput | undefined {
    const machine = replica.machine;
    const input = this.current?.input;
    if (!(machine instanceof KvMachine) || input === undefined) return undefined;
    return { kind: 'value', value: machine.read(input.key) };
  }

  /** An attempt ended: with the operation's output, or without (try again). Stale attempts are ignored. */
  finishAttempt(attempt: number, output: KvOutput | undefined): void {
    const running = this.current;
    if (running === undefined || running.attempt !== attempt) return;
    if (output === undefined) {
      this.wakeAfter(drawDelay(this.host.prng, 1, 10));
      return;
    }
    this.workload.recorder.ok(running.opId, output);
    this.next();
  }

  private next(): void {
    this.current = undefined;
    this.done += 1;
    this.schedule();
  }
}
