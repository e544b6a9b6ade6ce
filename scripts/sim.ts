// The deterministic simulator's command line: runs seeds, prints every
// violation with its seed, checker, options and trace, and ends with one
// summary line `seeds=N violations=V ...`.
//   npm run sim -- --seeds N [--seed S] [--nodes 3|5] [--ticks T] [--trace]
//                  [--mutation NAME] [--jobs J]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { RunStats } from '../src/sim/raft/cluster.ts';
import type { Violation } from '../src/sim/raft/checkers.ts';
import { describeOptions, type OptionOverrides, type SimOptions } from '../src/sim/raft/options.ts';
import { mutationNames, mutationOverrides, runSeed, type MutationName } from '../src/sim/raft/run.ts';

interface SeedReport {
  seed: number;
  violations: Violation[];
  stats: RunStats;
  trace: string[];
  options: SimOptions;
}

const usage = `usage: npm run sim -- [--seeds N] [--seed S] [--nodes 3|5] [--ticks T] [--workload raft|kv] [--consensus raft|s-raft] [--trace] [--mutation ${mutationNames.join('|')}] [--jobs J]`;

function parse(): {
  seeds: number[];
  overrides: OptionOverrides;
  trace: boolean;
  mutation?: MutationName;
  jobs: number;
} {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      ticks: { type: 'string' },
      trace: { type: 'boolean' },
      mutation: { type: 'string' },
      workload: { type: 'string' },
      consensus: { type: 'string' },
      jobs: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  const count = positive(values.seeds ?? '100', 'seeds');
  const first = values.seed === undefined ? 1 : positive(values.seed, 'seed');
  const seeds = values.seed !== undefined && values.seeds === undefined ? [first] : range(first, count);
  let overrides: OptionOverrides = {};
  let mutation: MutationName | undefined;
  if (values.mutation !== undefined) {
    if (!(mutationNames as readonly string[]).includes(values.mutation))
      fail(`--mutation must be one of ${mutationNames.join(', ')}`);
    mutation = values.mutation as MutationName;
    overrides = mutationOverrides(mutation);
  }
  if (values.nodes !== undefined) {
    const nodes = positive(values.nodes, 'nodes');
    if (nodes !== 3 && nodes !== 5) fail('--nodes must be 3 or 5');
    overrides = { ...overrides, nodes };
  }
  if (values.ticks !== undefined) overrides = { ...overrides, safetyMs: positive(values.ticks, 'ticks') * 10 };
  if (values.workload !== undefined) {
    if (values.workload !== 'raft' && values.workload !== 'kv') fail('--workload must be raft or kv');
    overrides = { ...overrides, workload: values.workload };
  }
  if (values.consensus !== undefined) {
    if (values.consensus !== 'raft' && values.consensus !== 's-raft') fail('--consensus must be raft or s-raft');
    overrides = { ...overrides, consensus: values.consensus };
  }
  const jobs = values.jobs === undefined ? availableParallelism() : positive(values.jobs, 'jobs');
  return { seeds, overrides, trace: values.trace === true, ...(mutation !== undefined ? { mutation } : {}), jobs };
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) fail(`--${name} must be a whole number ≥ 1, got ${text}`);
  return value;
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

function fail(message: string): never {
  console.error(`weft sim: ${message}\n${usage}`);
  process.exit(2);
}

async function runAll(
  seeds: number[],
  overrides: OptionOverrides,
  jobs: number,
  onReport: (r: SeedReport) => void,
): Promise<void> {
  const shares = Array.from({ length: Math.min(jobs, seeds.length) }, (_, j) => seeds.filter((_, i) => i % jobs === j));
  await Promise.all(
    shares.map(
      (share) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL('./sim-worker.js', import.meta.url), {
            workerData: { seeds: share, overrides },
          });
          worker.on('message', onReport);
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
        }),
    ),
  );
}

function printViolation(report: SeedReport): void {
  for (const v of report.violations) {
    console.log(`\nseed ${report.seed}: VIOLATION ${v.checker} at ${(v.timeMs / 1000).toFixed(3)}s: ${v.detail}`);
  }
  console.log(describeOptions(report.options).replace(/^/gm, '  '));
  console.log('  trace (last lines):');
  console.log(report.trace.slice(-40).join('\n'));
  console.log(
    `  replay: npm run sim -- --seed ${report.seed}${process.argv.includes('--mutation') ? ` --mutation ${process.argv[process.argv.indexOf('--mutation') + 1]}` : ''} --trace`,
  );
}

async function main(): Promise<void> {
  const { seeds, overrides, trace, mutation, jobs } = parse();
  const started = performance.now();
  const totals = {
    elections: 0,
    commits: 0,
    acked: 0,
    crashes: 0,
    partitions: 0,
    clogs: 0,
    confChanges: 0,
    events: 0,
    kvOperations: 0,
    kvUnknown: 0,
    linUndecided: 0,
  };
  let violations = 0;
  let failedSeeds = 0;
  const onReport = (report: SeedReport): void => {
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += report.stats[key];
    if (report.violations.length > 0) {
      violations += report.violations.length;
      failedSeeds += 1;
      printViolation(report);
    }
  };
  if (trace && seeds.length === 1) {
    const seed = seeds[0] ?? 1;
    const result = runSeed(seed, overrides, (line) => console.log(line));
    console.log(describeOptions(result.options));
    onReport({ seed, ...result, trace: [...result.trace], violations: [...result.violations] });
  } else {
    await runAll(seeds, overrides, jobs, onReport);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const t = totals;
  console.log(
    `\nseeds=${seeds.length} violations=${violations} failed_seeds=${failedSeeds} elections=${t.elections} commits=${t.commits} acked=${t.acked} crashes=${t.crashes} partitions=${t.partitions} clogs=${t.clogs} conf_changes=${t.confChanges} kv_ops=${t.kvOperations} kv_unknown=${t.kvUnknown} lin_undecided=${t.linUndecided} events=${t.events} mutation=${mutation ?? 'none'} seconds=${seconds}`,
  );
  // With a planted bug, finding it is success; without, any violation is failure.
  process.exitCode = mutation === undefined ? (violations > 0 ? 1 : 0) : violations > 0 ? 0 : 1;
}

await main();
