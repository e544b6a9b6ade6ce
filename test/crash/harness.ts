import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createPrng } from '../../src/core/prng.ts';
import { verifyDataDir, type Verified } from './verify.ts';

const childPath = fileURLToPath(new URL('./child.ts', import.meta.url));

export interface CrashOptions {
  readonly dataDir: string;
  readonly iterations: number;
  readonly seed: number;
  /** Called after each verified restart, for progress output. */
  readonly onIteration?: (iteration: number, acked: number, verified: Verified) => void;
}

export interface CrashSummary {
  readonly iterations: number;
  readonly lastIndex: number;
  readonly snapshots: number;
}

/**
 * Starts the writer, lets it run for a random number of acknowledged
 * batches (from the seeded PRNG, so a failing seed replays the same kill
 * points as closely as a real process allows), SIGKILLs it, and checks the
 * data directory: every acknowledged entry present, in order, unduplicated,
 * and the store equal to a replay of the log. Repeats `iterations` times.
 */
export async function runCrashTest(options: CrashOptions): Promise<CrashSummary> {
  const prng = createPrng(options.seed);
  let acked = 0;
  let lastIndex = 0;
  const snapshotIndexes = new Set<number>();
  for (let iteration = 1; iteration <= options.iterations; iteration += 1) {
    const killAfterAcks = prng.int(1, 80);
    acked = Math.max(acked, await runUntilKilled(options.dataDir, prng.int(1, 2 ** 31), killAfterAcks));
    const verified = await verifyDataDir(options.dataDir, acked);
    lastIndex = verified.lastIndex;
    snapshotIndexes.add(verified.snapshotIndex);
    options.onIteration?.(iteration, acked, verified);
  }
  return { iterations: options.iterations, lastIndex, snapshots: snapshotIndexes.size };
}

/** Runs one child until it has reported `killAfterAcks` acks, then SIGKILLs it; resolves with the highest ack seen. */
function runUntilKilled(dataDir: string, seed: number, killAfterAcks: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dataDir, String(seed)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let highest = 0;
  let acks = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const match = /^ack (\d+)$/.exec(line);
    if (match === null) return;
    highest = Math.max(highest, Number(match[1]));
    acks += 1;
    if (acks === killAfterAcks) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.on('close', (code, signal) => {
      if (signal === 'SIGKILL') resolve(highest);
      else reject(new Error(`crash-test child exited by itself (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });
}
