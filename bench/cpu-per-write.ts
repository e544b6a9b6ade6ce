// Where a weft cluster's CPU goes per write: a local 3-node cluster under
// weft bench kv's write workload, with the CPU time of every thread of every
// node process read from /proc/<pid>/task before and after (Linux only).
//   node --import tsx bench/cpu-per-write.ts [--nodes 3] [--duration-ms 8000] [--clients 32] [--leader-only]
//     [--node-args='--snapshot-entries 100000']   (flags every node gets)
// Prints writes/s and latency, then per node: its main thread, its other
// threads (V8's GC helpers, libuv's pool), and the total, in µs of CPU per write.
import { parseArgs } from 'node:util';
import { LocalWeftCluster } from '../src/cli/bench/local-weft.ts';
import { KvClient } from '../src/client/kv-client.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { runWrites, threadTimes } from './cpu-load.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '8000' },
    clients: { type: 'string', default: '32' },
    'leader-only': { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
  },
});
const nodes = Number(values.nodes);
const cluster = await LocalWeftCluster.start({
  nodes,
  basePort: await freePortRange(nodes),
  httpBasePort: await freePortRange(nodes),
  clientBasePort: await freePortRange(nodes),
  nodeArgs: values['node-args'].split(' ').filter((arg) => arg !== ''),
});
try {
  let endpoints = cluster.endpoints();
  if (values['leader-only']) {
    const statuses = await Promise.all(
      endpoints.map(async (endpoint) => {
        const client = new KvClient({ endpoints: [endpoint] });
        try {
          return await client.status();
        } finally {
          client.close();
        }
      }),
    );
    endpoints = endpoints.filter((_, i) => statuses[i]!.leader === statuses[i]!.header.memberId);
  }
  const pids = cluster.pids();
  const before = pids.map(threadTimes);
  const result = await runWrites(endpoints, Number(values.clients), Number(values['duration-ms']));
  const after = pids.map(threadTimes);
  const writes = result.writes.latency.count;
  const perWrite = (ms: number): string => `${((ms * 1000) / writes).toFixed(0).padStart(5)} µs`;
  console.log(
    `${((writes / result.elapsedMs) * 1000).toFixed(0)} writes/s, p50 ${result.writes.latency.quantileMs(0.5).toFixed(1)} ms, ` +
      `p99 ${result.writes.latency.quantileMs(0.99).toFixed(1)} ms (${values['leader-only'] ? 'clients on the leader' : 'clients on every node'})`,
  );
  let total = 0;
  pids.forEach((_pid, i) => {
    const main = after[i]!.main - before[i]!.main;
    const other = after[i]!.other - before[i]!.other;
    total += main + other;
    console.log(`node ${i + 1}: main thread ${perWrite(main)}, other threads ${perWrite(other)} per write`);
  });
  console.log(`cluster: ${perWrite(total)} of CPU per write`);
} finally {
  await cluster.stop();
}
