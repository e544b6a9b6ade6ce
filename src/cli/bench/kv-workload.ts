import { Worker } from 'node:worker_threads';
import { LatencyHistogram } from './latency-histogram.ts';
import { benchKeys, measureLoad, openChannels, type LoadSample, type LoadShare, type OpSample } from './kv-load.ts';

/**
 * `weft bench kv` as a whole: write every key once, then measure the load
 * in this thread, or split over `workers` threads when one core of client
 * is not enough to load the cluster (a gRPC request costs the client about
 * as much CPU as it costs the server), and merge their histograms.
 */
export interface KvBenchOptions extends Omit<LoadShare, 'timeoutMs'> {
  /** Threads that generate load; the clients and connections are split between them. @default 1 */
  readonly workers?: number;
  /** Bound for one request, retries included. @default 5000 */
  readonly timeoutMs?: number;
}

export interface OpStats {
  readonly latency: LatencyHistogram;
  readonly errors: number;
  readonly lastError: string | undefined;
}

export interface KvBenchResult {
  readonly elapsedMs: number;
  readonly reads: OpStats;
  readonly writes: OpStats;
  /** CPU time of this process (all threads) over the run, in cores (1 = one core busy the whole time). */
  readonly clientCpuCores: number;
}

/** The largest --keys: every key is kept encoded in memory. */
export const MAX_BENCH_KEYS = 1_000_000;

export async function runKvBench(options: KvBenchOptions): Promise<KvBenchResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  await preload(options, timeoutMs);
  const shares = splitShares(options, timeoutMs);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const samples = await Promise.all(
    shares.map((share) => (shares.length === 1 ? measureLoad(share) : inWorker(share))),
  );
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    // The shares run side by side: the slowest one bounds the run.
    elapsedMs: Math.max(...samples.map((sample) => sample.elapsedMs)),
    reads: merge(samples.map((sample) => sample.reads)),
    writes: merge(samples.map((sample) => sample.writes)),
    clientCpuCores: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

/** Each thread gets an equal share of the clients (the first ones one more) and at least one connection. */
export function splitShares(options: KvBenchOptions, timeoutMs: number): LoadShare[] {
  const workers = Math.min(options.workers ?? 1, options.clients);
  return Array.from({ length: workers }, (_, i) => ({
    ...options,
    timeoutMs,
    clients: Math.floor(options.clients / workers) + (i < options.clients % workers ? 1 : 0),
    connections: Math.max(1, Math.floor(options.connections / workers) + (i < options.connections % workers ? 1 : 0)),
    seed: options.seed + i,
  }));
}

/** Writes every key once, `clients` at a time, so that reads find values of the configured size. */
async function preload(options: KvBenchOptions, timeoutMs: number): Promise<void> {
  const channels = openChannels({ ...options, timeoutMs });
  const keys = benchKeys(options.keys);
  const value = Buffer.alloc(options.valueSizeBytes, 'v');
  let next = 0;
  const loop = async (i: number): Promise<void> => {
    for (let index = next++; index < keys.length; index = next++) {
      await channels[i % channels.length]!.put(keys[index]!, value);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.clients, keys.length) }, (_, i) => loop(i)));
  } finally {
    for (const channel of channels) channel.close();
  }
}

function inWorker(share: LoadShare): Promise<LoadSample> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./kv-load-worker.js', import.meta.url), { workerData: share });
    worker.once('message', (sample: LoadSample) => resolve(sample));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`bench worker exited with status ${code}`));
    });
  });
}

function merge(samples: readonly OpSample[]): OpStats {
  const latency = new LatencyHistogram();
  for (const sample of samples) latency.add(LatencyHistogram.fromSnapshot(sample.latency));
  return {
    latency,
    errors: samples.reduce((sum, sample) => sum + sample.errors, 0),
    lastError: samples.findLast((sample) => sample.lastError !== undefined)?.lastError,
  };
}
