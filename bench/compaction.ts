// What log compaction costs the writes in flight: a 3-node cluster (s-raft,
// fsync'ing) compacting every --snapshot-entries entries under weft bench
// kv's write workload, round by round. Compare a small --snapshot-entries
// (compactions every few seconds) with the default (none in a short run).
//   node --import tsx bench/compaction.ts [--snapshot-entries 15000] [--rounds 3] [--duration-ms 10000]
// One line per round: writes/s, p50, p99 and worst write, and the compactions the members logged.
import { parseArgs } from 'node:util';
import { LocalWeftCluster } from '../src/cli/bench/local-weft.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { positive, runWrites } from './cpu-load.ts';

const { values } = parseArgs({
  options: {
    'snapshot-entries': { type: 'string', default: '15000' },
    rounds: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '10000' },
    clients: { type: 'string', default: '32' },
  },
});
const snapshotEntries = positive(values['snapshot-entries'], 'snapshot-entries');
const rounds = positive(values.rounds, 'rounds');
const durationMs = positive(values['duration-ms'], 'duration-ms');
const clients = positive(values.clients, 'clients');

let compactions = 0;
const cluster = await LocalWeftCluster.start({
  nodes: 3,
  basePort: await freePortRange(3),
  httpBasePort: await freePortRange(3),
  clientBasePort: await freePortRange(3),
  nodeArgs: ['--consensus', 's-raft', '--snapshot-entries', String(snapshotEntries)],
  onLog: (line) => {
    if (line.includes('took a snapshot and compacted the log')) compactions += 1;
  },
});
try {
  for (let round = 1; round <= rounds; round += 1) {
    const before = compactions;
    const result = await runWrites(cluster.endpoints(), clients, durationMs);
    const latency = result.writes.latency;
    const rate = (latency.count / result.elapsedMs) * 1000;
    const ms = (q: number): string => latency.quantileMs(q).toFixed(1);
    console.log(
      `snapshot_entries=${snapshotEntries} round=${round} writes_per_s=${rate.toFixed(0)} p50_ms=${ms(0.5)} ` +
        `p99_ms=${ms(0.99)} max_ms=${ms(1)} compactions=${compactions - before}`,
    );
  }
} finally {
  await cluster.stop();
}
