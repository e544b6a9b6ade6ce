// 16 (or --nodes) weft nodes on loopback: median and p99 latency of DHT
// lookups, gets and puts as a client sees them through one long-lived gRPC
// channel, against an anchor measured in the same run: the same channel's
// round trip for a call the node answers without asking any peer
// (dht.client.routing-table).
//   node --import tsx bench/dht-latency.ts [--nodes 16] [--ops 500]
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createPrng } from '../src/core/prng.ts';
import { PeerCallClient } from '../src/transport/grpc-client.ts';
import { freePortRange } from '../test/helpers/ports.ts';
import { sleep, WeftProcess } from '../test/helpers/weft-process.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '16' },
    ops: { type: 'string', default: '500' },
    'ping-interval-ms': { type: 'string', default: '1000' },
  },
});
const count = Number(values.nodes);
const ops = Number(values.ops);
const pingMs = values['ping-interval-ms'];

const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
const [peerBase, httpBase] = [await freePortRange(count), await freePortRange(count)];
const peers = Array.from({ length: count }, (_, i) => `n${i + 1}=127.0.0.1:${peerBase + i + 1}`).join(',');
const nodes = Array.from(
  { length: count },
  (_, i) =>
    new WeftProcess([
      'node',
      ...['--id', `n${i + 1}`, '--peers', peers, '--http-port', String(httpBase + i + 1)],
      ...['--data-dir', join(dir, `n${i + 1}`), '--log-level', 'warn', '--ping-interval-ms', pingMs],
    ]),
);
const stopAll = (): void => nodes.forEach((n) => n.kill());
process.on('exit', stopAll);

try {
  for (let i = 1; i <= count; i += 1) {
    for (let tries = 0; ; tries += 1) {
      const ok = await fetch(`http://127.0.0.1:${httpBase + i}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (tries > 600) throw new Error(`node n${i} never became ready`);
      await sleep(100);
    }
  }
  await sleep(3_000); // a few stabilization rounds and window fixes
  const prng = createPrng(7);
  const client = new PeerCallClient(`127.0.0.1:${peerBase + 1}`);
  const inNode: number[] = [];
  const hops: number[] = [];
  const call = async (method: string, request: object): Promise<number> => {
    const started = performance.now();
    const reply = await client.call(method, new TextEncoder().encode(JSON.stringify(request)), 30_000);
    const elapsed = performance.now() - started;
    const answer = JSON.parse(new TextDecoder().decode(reply)) as { latencyMs?: number; hops?: number };
    if (method === 'dht.client.lookup' && answer.latencyMs !== undefined) {
      inNode.push(answer.latencyMs);
      hops.push(answer.hops ?? 0);
    }
    return elapsed;
  };
  const hexId = (): string => Array.from({ length: 16 }, () => prng.int(0, 15).toString(16)).join('');
  const measure = async (run: (i: number) => Promise<number>): Promise<number[]> => {
    for (let i = 0; i < 20; i += 1) await run(i); // warm the channels
    const samples: number[] = [];
    for (let i = 0; i < ops; i += 1) samples.push(await run(i));
    return samples.sort((a, b) => a - b);
  };
  const anchor = await measure(() => call('dht.client.routing-table', {}));
  const lookups = await measure(() => call('dht.client.lookup', { id: hexId() }));
  const puts = await measure((i) => call('dht.client.put', { key: `k${i}`, value: 'v' }));
  const gets = await measure((i) => call('dht.client.get', { key: `k${i % ops}` }));
  client.close();
  inNode.sort((a, b) => a - b);
  const q = (s: number[], p: number): string =>
    (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(2);
  const base = Number(q(anchor, 50));
  console.log(`| call (${count} nodes, ${ops} each) | median ms | p99 ms | median / anchor |`);
  console.log('|---|---|---|---|');
  for (const [name, s] of [
    ['anchor: routing-table (no peer asked)', anchor],
    ['lookup <id>', lookups],
    ['lookup <id>: the part spent inside the node', inNode],
    ['put', puts],
    ['get', gets],
  ] as const) {
    console.log(`| ${name} | ${q(s, 50)} | ${q(s, 99)} | ${(Number(q(s, 50)) / base).toFixed(1)} |`);
  }
  const meanHops = hops.reduce((a, b) => a + b, 0) / Math.max(1, hops.length);
  console.log(`\nlookup hops: mean ${meanHops.toFixed(2)}, plus the owner's confirmation`);
  console.log(`load average (1 min) at the end: ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores`);
} finally {
  stopAll();
}
