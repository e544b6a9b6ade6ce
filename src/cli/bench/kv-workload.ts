import { createPrng, type Prng } from '../../core/prng.ts';
import { KvClient } from '../../client/kv-client.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/**
 * The `weft bench kv` workload. It speaks only the etcd v3 API (through
 * KvClient), so the same numbers can be taken from weft and from etcd.
 * `clients` concurrent request loops share `connections` gRPC channels
 * (channel i starts at endpoint i mod n, so load spreads over the members);
 * each loop picks a key uniformly and a read with probability readRatio,
 * and records the latency of each request into a histogram.
 */
export interface KvBenchOptions {
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly connections: number;
  readonly durationMs: number;
  readonly valueSizeBytes: number;
  /** Fraction of requests that are reads, 0..1. */
  readonly readRatio: number;
  readonly keys: number;
  readonly consistency: 'linearizable' | 'serializable';
  readonly seed: number;
  /** Bound for one request, retries included. @default 5000 */
  readonly timeoutMs?: number;
}

export interface OpStats {
  readonly latency: LatencyHistogram;
  errors: number;
  lastError: string | undefined;
}

export interface KvBenchResult {
  readonly elapsedMs: number;
  readonly reads: OpStats;
  readonly writes: OpStats;
  /** CPU time of this process over the run, in cores (1 = one core busy the whole time). */
  readonly clientCpuCores: number;
}

/** The largest --keys: every key is kept encoded in memory. */
export const MAX_BENCH_KEYS = 1_000_000;

/** Keys of 8 bytes, as etcd's own benchmark uses by default: "k" and 7 digits. */
export function benchKeys(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`k${String(i).padStart(7, '0')}`));
}

export async function runKvBench(options: KvBenchOptions): Promise<KvBenchResult> {
  const n = options.endpoints.length;
  const channels = Array.from(
    { length: options.connections },
    (_, i) =>
      new KvClient({
        endpoints: [...options.endpoints.slice(i % n), ...options.endpoints.slice(0, i % n)],
        timeoutMs: options.timeoutMs ?? 5000,
      }),
  );
  try {
    const keys = benchKeys(options.keys);
    const value = Buffer.alloc(options.valueSizeBytes, 'v');
    await preload(channels, keys, value, options.clients);
    const stats = { reads: newStats(), writes: newStats() };
    const prng = createPrng(options.seed);
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const end = started + BigInt(options.durationMs) * 1_000_000n;
    const loops = Array.from({ length: options.clients }, (_, i) =>
      requestLoop({ client: channels[i % channels.length]!, prng: prng.fork(), keys, value, end, stats, options }),
    );
    await Promise.all(loops);
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuBefore);
    return { elapsedMs, ...stats, clientCpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs };
  } finally {
    for (const channel of channels) channel.close();
  }
}

function newStats(): OpStats {
  return { latency: new LatencyHistogram(), errors: 0, lastError: undefined };
}

/** Writes every key once, `concurrency` at a time, so that reads find values of the configured size. */
async function preload(
  channels: KvClient[],
  keys: Uint8Array[],
  value: Uint8Array,
  concurrency: number,
): Promise<void> {
  let next = 0;
  const loop = async (i: number): Promise<void> => {
    for (let index = next++; index < keys.length; index = next++)
      await channels[i % channels.length]!.put(keys[index]!, value);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, (_, i) => loop(i)));
}

interface LoopContext {
  readonly client: KvClient;
  readonly prng: Prng;
  readonly keys: readonly Uint8Array[];
  readonly value: Uint8Array;
  readonly end: bigint;
  readonly stats: { readonly reads: OpStats; readonly writes: OpStats };
  readonly options: KvBenchOptions;
}

async function requestLoop(context: LoopContext): Promise<void> {
  const { client, prng, keys, value, end, stats, options } = context;
  const readOptions = { consistency: options.consistency };
  for (let now = process.hrtime.bigint(); now < end; now = process.hrtime.bigint()) {
    const key = keys[prng.int(0, keys.length - 1)]!;
    const isRead = prng.next() < options.readRatio;
    const op = isRead ? stats.reads : stats.writes;
    try {
      if (isRead) await client.get(key, readOptions);
      else await client.put(key, value);
      op.latency.recordNanos(process.hrtime.bigint() - now);
    } catch (error) {
      op.errors += 1;
      op.lastError = error instanceof Error ? error.message : String(error);
    }
  }
}
