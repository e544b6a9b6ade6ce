// CPU per write of weft and of etcd under the same workload, on the same
// machine, in alternating rounds: a 3-node weft cluster and a 3-member etcd
// cluster on loopback, both fsync'ing, loaded by weft bench kv's write
// workload (32 clients, 6 connections, 256-byte values, 1,000 keys). CPU
// time of every thread of every server process comes from /proc (Linux
// only), the load generator's from process.cpuUsage().
//   node --import tsx bench/cpu-vs-etcd.ts [--rounds 3] [--duration-ms 10000]
// One line per round and system: writes/s, p50/p99, server µs per write (and
// per process), load generator µs per write.
import { parseArgs } from 'node:util';
import { LocalWeftCluster } from '../src/cli/bench/local-weft.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { runWrites, threadTimes } from './cpu-load.ts';
import { EtcdCluster } from './etcd-cluster.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '10000' },
  },
});
/** CPU ms of all threads of a process. */
function cpuMs(pid: number): number {
  const { main, other } = threadTimes(pid);
  return main + other;
}

const weft = await LocalWeftCluster.start({
  nodes: 3,
  basePort: await freePortRange(3),
  httpBasePort: await freePortRange(3),
  clientBasePort: await freePortRange(3),
  nodeArgs: ['--consensus', 's-raft'],
});
const etcd = await EtcdCluster.start({
  members: 3,
  clientBase: await freePortRange(3),
  peerBase: await freePortRange(3),
  flags: [],
});
try {
  const systems = [
    { name: 'weft', endpoints: weft.endpoints(), pids: () => weft.pids() },
    { name: 'etcd', endpoints: etcd.endpoints(), pids: () => etcd.pids() },
  ];
  for (let round = 1; round <= Number(values.rounds); round += 1) {
    for (const system of systems) {
      const pids = system.pids();
      const before = pids.map(cpuMs);
      const self = process.cpuUsage();
      const result = await runWrites(system.endpoints, 32, Number(values['duration-ms']));
      const used = pids.map((pid, i) => cpuMs(pid) - before[i]!);
      const load = process.cpuUsage(self);
      const writes = result.writes.latency.count;
      const perWrite = (ms: number): string => ((ms * 1000) / writes).toFixed(0);
      console.log(
        `round ${round} ${system.name}: ${((writes / result.elapsedMs) * 1000).toFixed(0)} writes/s, ` +
          `p50 ${result.writes.latency.quantileMs(0.5).toFixed(1)} ms, p99 ${result.writes.latency.quantileMs(0.99).toFixed(1)} ms; ` +
          `servers ${perWrite(used.reduce((a, b) => a + b, 0))} µs/write (${used.map(perWrite).join(' / ')}), ` +
          `load generator ${((load.user + load.system) / writes).toFixed(0)} µs/write`,
      );
    }
  }
} finally {
  await Promise.all([weft.stop(), etcd.stop()]);
}
