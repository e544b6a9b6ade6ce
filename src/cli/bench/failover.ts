import { nearestRank } from '../../core/quantile.ts';
import { KvClient } from '../../client/kv-client.ts';
import { ProbeThread, type ProbeEvent } from './failover-probe.ts';

/** A cluster the failover bench can load, crash and mend: weft's own, or etcd's (bench/). */
export interface FailoverTarget {
  /** The etcd v3 endpoints of every running member. */
  endpoints(): string[];
  /**
   * SIGKILL the current leader. Resolves, as soon as the signal is sent, with
   * the moment it was (performance.now()): the clock starts there, not when
   * the process's exit is noticed, which can come later on a busy machine.
   */
  killLeader(): Promise<number>;
  /** Wait for the killed member's exit, restart it and wait until the cluster is whole again. */
  heal(): Promise<void>;
}

export interface FailoverOptions {
  readonly trials: number;
  /** Writers keeping the cluster busy while the leader dies. */
  readonly loadClients: number;
  /** The kill comes at a random moment this long into each trial's load. */
  readonly warmupMs: number;
  readonly valueSizeBytes: number;
  readonly seed: number;
  /**
   * Told of each trial as it ends: the kill and the first commit after it
   * (performance.now()), and what the probe's attempts met on the way.
   */
  readonly onTrial?: (trial: { index: number; killedAt: number; committedAt: number; probe: ProbeEvent[] }) => void;
}

/**
 * The client-visible cost of losing the leader: under a steady write load,
 * SIGKILL the leader, then write with a fresh client (in a thread of its
 * own, see ProbeThread) until a write commits.
 * Only writes issued after the kill count, so an acknowledgement the old
 * leader sent just before dying cannot pass for a recovery. Returns one
 * unavailability (ms) per trial.
 */
export async function measureFailover(target: FailoverTarget, options: FailoverOptions): Promise<number[]> {
  const results: number[] = [];
  let seed = options.seed;
  const prober = await ProbeThread.start(target.endpoints(), options.valueSizeBytes);
  try {
    for (let trial = 0; trial < options.trials; trial += 1) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const value = new Uint8Array(options.valueSizeBytes).fill(97);
      const load = startLoad(target.endpoints(), options.loadClients, value);
      await sleep(options.warmupMs / 2 + (seed / 2 ** 31) * (options.warmupMs / 2));
      const killedAt = await target.killLeader();
      const { committedAt, events: probe } = await prober.probe(target.endpoints(), options.valueSizeBytes);
      results.push(committedAt - killedAt);
      options.onTrial?.({ index: trial, killedAt, committedAt, probe });
      await load.stop();
      await target.heal();
    }
  } finally {
    await prober.close();
  }
  return results;
}

function startLoad(endpoints: string[], clients: number, value: Uint8Array): { stop(): Promise<void> } {
  let stopped = false;
  const writers = Array.from({ length: clients }, async (_, c) => {
    const client = new KvClient({ endpoints: rotate(endpoints, c), timeoutMs: 2_000, backoffMs: 2, backoffMaxMs: 50 });
    for (let i = 0; !stopped; i += 1) await client.put(`failover-load/${c}/${i % 100}`, value).catch(() => undefined);
    client.close();
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(writers);
    },
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The middle of a sample (the mean of the two middle values when their number is even). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** p50, p99 (nearest rank) and max of a sample, in the sample's unit. */
export function summarize(sample: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...sample].sort((a, b) => a - b);
  return { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}
