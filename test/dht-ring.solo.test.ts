import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPrng } from '../src/core/prng.ts';
import { RingOracle } from '../src/sim/koorde/ring.ts';
import { PeerCallClient } from '../src/transport/grpc-client.ts';
import { freePortRange } from './helpers/ports.ts';
import { sleep, WeftProcess } from './helpers/weft-process.ts';

interface Member {
  id: string;
  address: string;
}
interface Table {
  joined: boolean;
  self: Member;
  successors: Member[];
}

const count = 16;
const killed = [4, 8, 12];

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as T };
}

const hexId = (id: bigint): string => id.toString(16).padStart(16, '0');

/** Poll /ready, which answers 200 once the node has joined the ring. */
async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return;
    await sleep(200);
  }
  throw new Error(`${url} did not join the ring in ${timeoutMs} ms`);
}

/** Poll until every node's successor is the next id of the live set. */
async function waitConverged(urls: readonly string[], timeoutMs: number): Promise<RingOracle> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const tables = await Promise.all(urls.map(async (u) => (await json<Table>(`${u}/v1/dht/routing-table`)).body));
    const oracle = new RingOracle(tables.map((t) => BigInt(`0x${t.self.id}`)));
    const wrong = tables.filter((t) => {
      const next = oracle.after(BigInt(`0x${t.self.id}`), 1)[0];
      return !t.joined || next === undefined || t.successors[0]?.id !== hexId(next);
    });
    if (wrong.length === 0) return oracle;
    last = wrong.map((t) => `${t.self.address}->${t.successors[0]?.address ?? 'none'}`).join(' ');
    await sleep(200);
  }
  throw new Error(`the ring did not converge: ${last}`);
}

describe('16 weft nodes on loopback', () => {
  it('form one ring, answer lookups as the oracle does, and keep every key after 3 SIGKILLs', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-dht-'));
    const [peerBase, httpBase] = [await freePortRange(count), await freePortRange(count)];
    const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const peers = names.map((n, i) => `${n}=127.0.0.1:${peerBase + i + 1}`).join(',');
    const urls = names.map((_, i) => `http://127.0.0.1:${httpBase + i + 1}`);
    const nodes = names.map(
      (name, i) =>
        new WeftProcess([
          'node',
          ...['--id', name, '--peers', peers, '--http-port', String(httpBase + i + 1)],
          ...['--data-dir', join(dir, name), '--log-level', 'warn', '--ping-interval-ms', '5000'],
          ...['--dht-stabilize-ms', '250', '--dht-rpc-timeout-ms', '1000'],
        ]),
    );
    t.after(() => nodes.forEach((n) => n.kill()));
    const started = performance.now();
    const phase = (name: string): void =>
      t.diagnostic(`${name} at ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await Promise.all(
      urls.map((url, i) =>
        waitReady(url, 90_000).catch((error: unknown) => {
          // Say why: the node's own warnings (join attempts and their errors) end the message.
          const output = `${nodes[i]!.stdout}${nodes[i]!.stderr}`.split('\n').slice(-15).join('\n');
          throw new Error(`${String(error)}; its last log lines:\n${output}`);
        }),
      ),
    );
    phase('all ready');
    let oracle = await waitConverged(urls, 30_000);
    phase('converged');
    assert.equal(oracle.size, count);

    const prng = createPrng(16);
    const randomId = (): bigint => (BigInt(prng.int(0, 0xffffffff)) << 32n) | BigInt(prng.int(0, 0xffffffff));
    const checkLookups = async (from: readonly string[], ring: RingOracle, how: string): Promise<void> => {
      const asks = Array.from({ length: 50 }, () => ({ id: randomId(), url: prng.pick(from) }));
      const answers = await Promise.all(
        asks.map((a) => json<{ owner: Member }>(`${a.url}/v1/dht/lookup/${hexId(a.id)}`)),
      );
      answers.forEach(({ body }, i) => {
        const id = asks[i]!.id;
        assert.equal(body.owner.id, hexId(ring.successorOf(id)), `lookup of ${hexId(id)} ${how}`);
      });
    };
    await checkLookups(urls, oracle, 'in the full ring');
    await checkLookups(urls, oracle, 'in the full ring');

    // Latency as a client sees it, through one long-lived gRPC channel; reported, not asserted.
    const client = new PeerCallClient(`127.0.0.1:${peerBase + 1}`);
    const latencies: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const started = performance.now();
      await client.call('dht.client.lookup', new TextEncoder().encode(JSON.stringify({ id: hexId(randomId()) })), 5000);
      latencies.push(performance.now() - started);
    }
    client.close();
    latencies.sort((a, b) => a - b);
    t.diagnostic(
      `16-node lookup latency over gRPC: median ${latencies[50]?.toFixed(2)} ms, p99 ${latencies[98]?.toFixed(2)} ms`,
    );

    // 100 puts at once on 16 processes sharing two cores: an owner may not answer within the RPC timeout, and
    // the node then says 503 NO_ROUTE, "retry". A client retries; so does this test, a few times, and says so.
    let retried = 0;
    const put = async (i: number): Promise<{ status: number; body: unknown }> => {
      for (let attempt = 1; ; attempt += 1) {
        const answer = await json(`${urls[i % count]}/v1/dht/keys/key-${i}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ value: `value-${i}` }),
        });
        if (answer.status !== 503 || attempt === 5) return answer;
        retried += 1;
        await sleep(100);
      }
    };
    const keys = Array.from({ length: 100 }, (_, i) => i);
    const puts = await Promise.all(keys.map(put));
    puts.forEach((answer) => assert.equal(answer.status, 200, JSON.stringify(answer.body)));
    t.diagnostic(`puts retried after a 503: ${retried}`);

    phase('lookups, latency and puts done');
    for (const index of killed) nodes[index]?.child.kill('SIGKILL');
    const live = urls.filter((_, i) => !killed.includes(i));
    oracle = await waitConverged(live, 30_000);
    phase('converged after the kills');
    assert.equal(oracle.size, count - killed.length);
    const reads = await Promise.all(
      keys.map((i) => json<{ value: string }>(`${live[i % live.length]}/v1/dht/keys/key-${i}`)),
    );
    reads.forEach((got, i) => {
      assert.equal(got.status, 200, `key-${i}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.value, `value-${i}`);
    });
    await checkLookups(live, oracle, 'after the kills');
  });
});
