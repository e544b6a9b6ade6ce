// weft against etcd on the same machine in the same run: a 3-node weft
// cluster and a 3-member etcd cluster on loopback, both fsync'ing, loaded by
// the same etcd v3 client (weft bench kv's workload) in alternating rounds;
// then leader SIGKILLs under write load, trial by trial in turn, on weft
// (s-raft), etcd with its defaults, and etcd with weft's timing. Before the
// rounds, each cluster runs the same workload unmeasured for --warmup-ms (as
// each failover trial has 2 s of load before its kill): a weft process's
// first seconds go to V8 compiling its code and growing its heap.
//   node --import tsx bench/vs-etcd.ts [--rounds 3] [--duration-ms 10000] [--warmup-ms 5000] [--trials 10]
// Last line: write_tput_ratio=… write_p99_ratio=… read_tput_ratio=…
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { measureFailover, median, summarize, type FailoverTarget } from '../src/cli/bench/failover.ts';
import { runKvBench, type KvBenchResult } from '../src/cli/bench/kv-workload.ts';
import { LocalWeftCluster } from '../src/cli/bench/local-weft.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { positive } from './cpu-load.ts';
import { EtcdCluster } from './etcd-cluster.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '10000' },
    'warmup-ms': { type: 'string', default: '5000' },
    clients: { type: 'string', default: '32' },
    trials: { type: 'string', default: '10' },
    'load-clients': { type: 'string', default: '8' },
  },
});
const rounds = positive(values.rounds, 'rounds');
const durationMs = positive(values['duration-ms'], 'duration-ms');
const warmupMs = values['warmup-ms'] === '0' ? 0 : positive(values['warmup-ms'], 'warmup-ms');
const clients = positive(values.clients, 'clients');
const trials = positive(values.trials, 'trials');
const loadClients = positive(values['load-clients'], 'load-clients');

/** weft's Raft timing (its defaults), which the "matched" etcd gets too, with pre-vote as weft always does. */
const heartbeatMs = 20;
const electionMs = 200;

const say = (line: string): void => void process.stderr.write(`${line}\n`);
say(
  `machine: ${availableParallelism()} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const weft = await LocalWeftCluster.start({
  nodes: 3,
  basePort: await freePortRange(3),
  httpBasePort: await freePortRange(3),
  clientBasePort: await freePortRange(3),
  nodeArgs: ['--consensus', 's-raft', '--heartbeat-ms', String(heartbeatMs), '--election-ticks', '10'],
});
const etcd = await startEtcd([]);
const etcdMatched = await startEtcd([
  ...['--heartbeat-interval', String(heartbeatMs), '--election-timeout', String(electionMs), '--pre-vote'],
]);

try {
  // ---- throughput and latency, alternating rounds ----
  const workload = (readRatio: number) => ({
    clients,
    connections: 6,
    durationMs,
    valueSizeBytes: 256,
    readRatio,
    keys: 1_000,
    consistency: 'linearizable' as const,
    seed: 1,
  });
  const ratios = { writeTput: [] as number[], writeP99: [] as number[], readTput: [] as number[] };
  if (warmupMs > 0) {
    for (const [name, target] of [
      ['weft', weft],
      ['etcd', etcd],
    ] as const) {
      const write = await runKvBench({ endpoints: target.endpoints(), ...workload(0), durationMs: warmupMs });
      const read = await runKvBench({ endpoints: target.endpoints(), ...workload(1), durationMs: warmupMs });
      say(
        `warm-up ${name} (not counted): write ${describe(write, 'writes')}; linearizable read ${describe(read, 'reads')}`,
      );
    }
  }
  for (let round = 1; round <= rounds; round += 1) {
    // Alternate who goes first, so neither always runs on a warmer or cooler machine.
    const order: [string, FailoverTarget][] = [
      ['weft', weft],
      ['etcd', etcd],
    ];
    if (round % 2 === 0) order.reverse();
    const results = new Map<string, { write: KvBenchResult; read: KvBenchResult }>();
    for (const [name, target] of order) {
      const write = await runKvBench({ endpoints: target.endpoints(), ...workload(0) });
      const read = await runKvBench({ endpoints: target.endpoints(), ...workload(1) });
      results.set(name, { write, read });
      say(`round ${round} ${name}: write ${describe(write, 'writes')}; linearizable read ${describe(read, 'reads')}`);
    }
    const [w, e] = [results.get('weft')!, results.get('etcd')!];
    ratios.writeTput.push(rate(w.write, 'writes') / rate(e.write, 'writes'));
    ratios.writeP99.push(w.write.writes.latency.quantileMs(0.99) / e.write.writes.latency.quantileMs(0.99));
    ratios.readTput.push(rate(w.read, 'reads') / rate(e.read, 'reads'));
  }

  // ---- failover: one trial on each cluster in turn ----
  const targets: [string, FailoverTarget][] = [
    ['weft', weft],
    ['etcd', etcd],
    ['etcd_matched', etcdMatched],
  ];
  const samples = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  for (let trial = 0; trial < trials; trial += 1) {
    for (const [name, target] of targets) {
      const [ms] = await measureFailover(target, {
        trials: 1,
        loadClients,
        warmupMs: 2_000,
        valueSizeBytes: 256,
        seed: trial + 1,
      });
      samples.get(name)!.push(ms!);
    }
  }
  say(
    `failover: ${trials} leader SIGKILLs each under ${loadClients} writers; crash to the first write committed after`,
  );
  const p99 = new Map<string, number>();
  for (const [name, sample] of samples) {
    const s = summarize(sample);
    p99.set(name, s.p99);
    say(`  ${name.padEnd(13)} p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  max ${s.max.toFixed(1)} ms`);
  }
  say(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} after the runs`,
  );
  const ms = (name: string): string => p99.get(name)!.toFixed(1);
  console.log(
    `failover_p99_ms_weft=${ms('weft')} failover_p99_ms_etcd=${ms('etcd')} failover_p99_ms_etcd_matched=${ms('etcd_matched')}`,
  );
  const m = (xs: number[]): string => median(xs).toFixed(2);
  console.log(
    `write_tput_ratio=${m(ratios.writeTput)} write_p99_ratio=${m(ratios.writeP99)} read_tput_ratio=${m(ratios.readTput)}`,
  );
} finally {
  await Promise.all([weft.stop(), etcd.stop(), etcdMatched.stop()]);
}

async function startEtcd(flags: string[]): Promise<EtcdCluster> {
  return EtcdCluster.start({
    members: 3,
    clientBase: await freePortRange(3),
    peerBase: await freePortRange(3),
    flags,
    ...(process.env['ETCD_BIN'] !== undefined ? { binary: process.env['ETCD_BIN'] } : {}),
  });
}

function rate(result: KvBenchResult, kind: 'reads' | 'writes'): number {
  return result[kind].latency.count / (result.elapsedMs / 1_000);
}

function describe(result: KvBenchResult, kind: 'reads' | 'writes'): string {
  const stats = result[kind];
  const errors = stats.errors > 0 ? ` (${stats.errors} errors, last: ${stats.lastError})` : '';
  return `${rate(result, kind).toFixed(0)} ops/s p50 ${stats.latency.quantileMs(0.5).toFixed(2)} ms p99 ${stats.latency.quantileMs(0.99).toFixed(2)} ms${errors}`;
}
