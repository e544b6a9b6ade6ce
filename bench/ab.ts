// Two checkouts of weft under the same write load, in alternating rounds on
// the same machine: how a change moved throughput and latency. Each checkout
// runs its own 3-node cluster (s-raft, fsync'ing) from its own bin/weft.js;
// both clusters stay up, and only one is loaded at a time.
//   git worktree add /tmp/before <commit>
//   node --import tsx bench/ab.ts --before /tmp/before --after . [--rounds 4] [--duration-ms 10000] [--node-args="--wal-delay-ms 5"]
// Last line: tput_ratio=<after/before writes/s> p50_ratio=… p99_ratio=… (medians of the per-round ratios)
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../src/cli/bench/failover.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { positive, runWrites } from './cpu-load.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '4' },
    'duration-ms': { type: 'string', default: '10000' },
    'node-args': { type: 'string', default: '' },
  },
});
if (values.before === undefined || values.after === undefined) {
  throw new Error('give both checkouts: --before <dir> --after <dir> (e.g. a `git worktree add` of the base commit)');
}
const rounds = positive(values.rounds, 'rounds');
const durationMs = positive(values['duration-ms'], 'duration-ms');
const nodeArgs = values['node-args'].split(' ').filter((arg) => arg !== '');

interface Started {
  readonly name: 'before' | 'after';
  readonly endpoints: string[];
  stop(): Promise<void>;
}

const clusters: Started[] = [];
try {
  for (const name of ['before', 'after'] as const) {
    // Each checkout's own cluster launcher, so each runs its own code.
    const module = (await import(resolve(values[name]!, 'src/cli/bench/local-weft.ts'))) as {
      LocalWeftCluster: { start(options: object): Promise<{ endpoints(): string[]; stop(): Promise<void> }> };
    };
    const cluster = await module.LocalWeftCluster.start({
      nodes: 3,
      basePort: await freePortRange(3),
      httpBasePort: await freePortRange(3),
      clientBasePort: await freePortRange(3),
      nodeArgs: ['--consensus', 's-raft', ...nodeArgs],
    });
    clusters.push({ name, endpoints: cluster.endpoints(), stop: () => cluster.stop() });
  }
  const ratios = { tput: [] as number[], p50: [] as number[], p99: [] as number[] };
  for (let round = 1; round <= rounds; round += 1) {
    // Alternate who goes first, so neither always runs on a warmer or cooler machine.
    const order = round % 2 === 1 ? clusters : [...clusters].reverse();
    const seen = new Map<string, { tput: number; p50: number; p99: number }>();
    for (const cluster of order) {
      const result = await runWrites(cluster.endpoints, 32, durationMs);
      const latency = result.writes.latency;
      const figures = {
        tput: (latency.count / result.elapsedMs) * 1_000,
        p50: latency.quantileMs(0.5),
        p99: latency.quantileMs(0.99),
      };
      seen.set(cluster.name, figures);
      const errors = result.writes.errors > 0 ? ` (${result.writes.errors} errors)` : '';
      console.log(
        `round ${round} ${cluster.name.padEnd(6)}: ${figures.tput.toFixed(0)} writes/s, p50 ${figures.p50.toFixed(1)} ms, ` +
          `p99 ${figures.p99.toFixed(1)} ms, max ${latency.quantileMs(1).toFixed(1)} ms${errors}`,
      );
    }
    const [before, after] = [seen.get('before')!, seen.get('after')!];
    ratios.tput.push(after.tput / before.tput);
    ratios.p50.push(after.p50 / before.p50);
    ratios.p99.push(after.p99 / before.p99);
  }
  const m = (xs: number[]): string => median(xs).toFixed(2);
  console.log(`tput_ratio=${m(ratios.tput)} p50_ratio=${m(ratios.p50)} p99_ratio=${m(ratios.p99)}`);
} finally {
  await Promise.all(clusters.map((cluster) => cluster.stop()));
}
