// What the cluster benchmarks share: the CPU time of a process's threads
// from /proc (Linux only), the write load, and their flags' parsing.
import { readdirSync, readFileSync } from 'node:fs';
import { runKvBench, type KvBenchResult } from '../src/cli/bench/kv-workload.ts';

const ticksPerSecond = 100; // USER_HZ, what /proc reports CPU time in

/** CPU ms of each thread of a process, split into its main thread and the rest. */
export function threadTimes(pid: number): { main: number; other: number } {
  let [main, other] = [0, 0];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
    if (Number(tid) === pid) main += ms;
    else other += ms;
  }
  return { main, other };
}

/** weft bench kv's write workload: 6 connections, 256-byte values, 1,000 keys. */
export function runWrites(endpoints: string[], clients: number, durationMs: number): Promise<KvBenchResult> {
  return runKvBench({
    endpoints,
    clients,
    connections: 6,
    durationMs,
    valueSizeBytes: 256,
    readRatio: 0,
    keys: 1_000,
    consistency: 'linearizable',
    seed: 1,
  });
}

/** A flag that must be a positive integer; a clear error otherwise. */
export function positive(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
  return n;
}
