// Runs a share of the simulator's seeds in a worker thread and reports each
// result to the runner (scripts/sim.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { runSeed } from '../src/sim/raft/run.ts';
import type { OptionOverrides } from '../src/sim/raft/options.ts';

const { seeds, overrides } = workerData as { seeds: number[]; overrides: OptionOverrides };
for (const seed of seeds) {
  const result = runSeed(seed, overrides);
  parentPort?.postMessage({
    seed,
    violations: result.violations,
    stats: result.stats,
    trace: result.violations.length > 0 ? result.trace : [],
    options: result.options,
  });
}
