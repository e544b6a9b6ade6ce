// What the garbage collector costs per write: a 3-node cluster (s-raft,
// fsync'ing) of one checkout under weft bench kv's write workload, its nodes
// run with V8's --trace-gc-nvp. The first round warms up and is not counted.
// Run it from two checkouts in turn to compare a change (the checkout's own
// cluster launcher starts the nodes, so it must take nodeFlags: 0287be6 or later).
//   node --import tsx bench/gc-per-write.ts [--checkout .] [--rounds 3] [--duration-ms 10000]
// Last line: scavenges_per_1k_writes=… scavenge_ms_per_1k_writes=… promoted_bytes_per_write=…
//            mark_compacts_per_1k_writes=… mark_compact_pause_mean_ms=… mark_compact_array_buffer_sweep_mean_ms=…
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { LocalWeftCluster, LocalWeftOptions } from '../src/cli/bench/local-weft.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { positive, runWrites } from './cpu-load.ts';

const { values } = parseArgs({
  options: {
    checkout: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '3' },
    'duration-ms': { type: 'string', default: '10000' },
    clients: { type: 'string', default: '32' },
  },
});
const rounds = positive(values.rounds, 'rounds');
if (rounds < 2) throw new Error('--rounds must be at least 2: the first one warms up and is not counted');
const durationMs = positive(values['duration-ms'], 'duration-ms');
const clients = positive(values.clients, 'clients');

/** One --trace-gc-nvp line: its kind (s: scavenge, mc: mark-compact) and its name=value fields. */
interface GcEvent {
  readonly kind: string;
  readonly fields: ReadonlyMap<string, number>;
}

const events: GcEvent[] = [];
let counting = false;
const { LocalWeftCluster: Cluster } = (await import(resolve(values.checkout, 'src/cli/bench/local-weft.ts'))) as {
  LocalWeftCluster: { start(options: LocalWeftOptions): Promise<LocalWeftCluster> };
};
const cluster = await Cluster.start({
  nodes: 3,
  basePort: await freePortRange(3),
  httpBasePort: await freePortRange(3),
  clientBasePort: await freePortRange(3),
  nodeArgs: ['--consensus', 's-raft'],
  nodeFlags: ['--trace-gc-nvp'],
  onLog: (line) => {
    const kind = / gc=(s|mc) /.exec(line)?.[1];
    if (!counting || kind === undefined) return;
    const fields = new Map([...line.matchAll(/ ([\w.]+)=([\d.]+)/g)].map((m) => [m[1]!, Number(m[2])] as const));
    events.push({ kind, fields });
  },
});
let writes = 0;
try {
  for (let round = 1; round <= rounds; round += 1) {
    counting = round > 1;
    const result = await runWrites(cluster.endpoints(), clients, durationMs);
    const latency = result.writes.latency;
    if (counting) writes += latency.count;
    const ms = (q: number): string => latency.quantileMs(q).toFixed(1);
    const rate = ((latency.count / result.elapsedMs) * 1000).toFixed(0);
    console.log(
      `round ${round}${counting ? '' : ' (warm-up)'}: ${rate} writes/s, p50 ${ms(0.5)} ms, p99 ${ms(0.99)} ms`,
    );
  }
} finally {
  await cluster.stop();
}
if (events.length === 0)
  throw new Error('the nodes logged no --trace-gc-nvp lines: does this checkout take nodeFlags?');

const of = (kind: string): GcEvent[] => events.filter((event) => event.kind === kind);
const sum = (list: GcEvent[], field: string): number => list.reduce((s, e) => s + (e.fields.get(field) ?? 0), 0);
const mean = (list: GcEvent[], field: string): number => (list.length === 0 ? 0 : sum(list, field) / list.length);
const [scavenges, markCompacts] = [of('s'), of('mc')];
const perK = (n: number): string => ((n * 1000) / writes).toFixed(2);
console.log(
  `${writes} writes counted, on 3 nodes: ${scavenges.length} scavenges, ${markCompacts.length} mark-compacts`,
);
console.log(
  [
    `scavenges_per_1k_writes=${perK(scavenges.length)}`,
    `scavenge_ms_per_1k_writes=${perK(sum(scavenges, 'pause'))}`,
    `promoted_bytes_per_write=${(sum(scavenges, 'promoted') / writes).toFixed(0)}`,
    `mark_compacts_per_1k_writes=${perK(markCompacts.length)}`,
    `mark_compact_pause_mean_ms=${mean(markCompacts, 'pause').toFixed(1)}`,
    `mark_compact_array_buffer_sweep_mean_ms=${mean(markCompacts, 'finish.sweep_array_buffers').toFixed(1)}`,
  ].join(' '),
);
