// Three `weft node` processes on loopback with the web cache, and an origin
// on 127.0.0.1 that this test starts: 100 concurrent requests for one cold
// URL entered through all three nodes make one origin request; loopback
// targets outside the allowlist are refused; the CLI gets, reports and
// purges; after the owner of some URLs is SIGKILLed, those URLs and new ones
// are still served. Every connection is to 127.0.0.1.
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from './helpers/cache-kit.ts';
import { freePortRange } from './helpers/ports.ts';
import { waitRingConverged } from './helpers/ring-converged.ts';
import { runWeft, waitForStatus, WeftProcess } from './helpers/weft-process.ts';

const names = ['n1', 'n2', 'n3'];
let origin: TestOrigin;
let nodes: WeftProcess[] = [];
let urls: string[] = [];

interface Answer {
  status: number;
  body: string;
  xCache: string | null;
  node: string | null;
}

async function cacheGet(entry: string, target: string): Promise<Answer> {
  const response = await fetch(`${entry}/cache?url=${encodeURIComponent(target)}`, {
    signal: AbortSignal.timeout(20_000),
  });
  const body = await response.text();
  return {
    status: response.status,
    body,
    xCache: response.headers.get('x-cache'),
    node: response.headers.get('x-cache-node'),
  };
}

async function cacheStats(entry: string): Promise<{ replicasSent: number }> {
  const response = await fetch(`${entry}/v1/cache/stats`, { signal: AbortSignal.timeout(20_000) });
  return (await response.json()) as { replicasSent: number };
}

before(async () => {
  origin = await TestOrigin.start();
  const dir = mkdtempSync(join(tmpdir(), 'weft-cache-'));
  const [peerBase, httpBase] = [await freePortRange(3), await freePortRange(3)];
  const peers = names.map((n, i) => `${n}=127.0.0.1:${peerBase + i + 1}`).join(',');
  urls = names.map((_, i) => `http://127.0.0.1:${httpBase + i + 1}`);
  nodes = names.map(
    (name, i) =>
      new WeftProcess([
        'node',
        ...['--id', name, '--peers', peers, '--http-port', String(httpBase + i + 1), '--data-dir', join(dir, name)],
        ...['--raft-voters', 'n1', '--wal-sync', 'none', '--log-level', 'warn', '--dht-stabilize-ms', '250'],
        ...['--cache-allow', '127.0.0.1/32', '--cache-hot-rps', '5'],
      ]),
  );
  await Promise.all(urls.map((url) => waitForStatus(`${url}/ready`, 200, 60_000)));
  await waitRingConverged(urls, 60_000);
});
after(async () => {
  nodes.forEach((n) => n.kill());
  await origin.close();
});

describe('web cache on three weft processes', () => {
  it('100 concurrent requests for one cold URL through three nodes make exactly one origin request', async () => {
    origin.on('/cold', (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=600' });
        res.end('cold body');
      }, 300);
    });
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => cacheGet(urls[i % 3]!, origin.url('/cold'))),
    );
    assert.equal(origin.count('/cold'), 1);
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.body, 'cold body');
    }
    assert.equal(new Set(answers.map((a) => a.node)).size, 1, 'one owner answered them all');
  });

  it('refuses loopback targets outside the allowlist, and redirects to them, with 403', async () => {
    origin.serve('/inner', { 'cache-control': 'max-age=60' });
    origin.serve('/to-inner', { location: origin.url('/inner', '127.0.0.2') }, '', 302);
    for (const target of [origin.url('/inner', '127.0.0.2'), origin.url('/inner', '[::1]'), origin.url('/to-inner')]) {
      const answer = await cacheGet(urls[1]!, target);
      assert.equal(answer.status, 403, `${target}: ${answer.body}`);
      assert.equal(JSON.parse(answer.body).error.code, 'ORIGIN_REFUSED');
    }
    assert.equal(origin.count('/inner'), 0);
  });

  it('weft cache get, stats and purge', async () => {
    origin.serve('/cli', { 'cache-control': 'max-age=600' }, 'from the origin');
    const first = await runWeft(['cache', 'get', origin.url('/cli'), '--endpoint', urls[0]!]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'from the origin');
    assert.match(first.stderr, /^200 MISS from n\d age=0 bytes=15 \| latency=/);
    const second = await runWeft(['cache', 'get', origin.url('/cli'), '--endpoint', urls[2]!]);
    assert.match(second.stderr, /^200 HIT from n\d/);
    const stats = await runWeft(['cache', 'stats', '--endpoints', urls.join(',')]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^NODE\s+HITS\s+MISSES/);
    assert.match(stats.stdout, /\ntotal\s+\d+\s+\d+/);
    const purged = await runWeft(['cache', 'purge', origin.url('/cli'), '--endpoint', urls[1]!]);
    assert.match(purged.stdout, /^Purged http:\/\/127\.0\.0\.1:\d+\/cli: [1-9]\d* stored responses removed/);
    const refused = await runWeft(['cache', 'get', 'ftp://x/', '--endpoint', urls[0]!]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /HTTP 400: URL_INVALID: only http and https/);
  });

  it('after the owner is SIGKILLed, its URLs and new ones are still served', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `/owned-${i}`);
    for (const path of paths) origin.serve(path, { 'cache-control': 'max-age=600' });
    const owners = await Promise.all(paths.map(async (path) => (await cacheGet(urls[0]!, origin.url(path))).node));
    const victim = owners.find((o): o is string => o !== null && o !== 'n1');
    assert.ok(victim !== undefined, `some URL is owned by n2 or n3: ${owners.join(' ')}`);
    const owned = paths.filter((_, i) => owners[i] === victim);
    const hot = owned[0]!;
    // Make the URL hot (--cache-hot-rps 5), through every node as clients of a hot URL would, until
    // the victim has copied it to its successor: the copy is sent in the background, so wait for
    // the victim to count it rather than for a time.
    const victimUrl = urls[names.indexOf(victim)]!;
    const sentBefore = (await cacheStats(victimUrl)).replicasSent;
    for (let burst = 0; (await cacheStats(victimUrl)).replicasSent === sentBefore; burst += 1) {
      assert.ok(burst < 20, `${victim} copied no hot URL to its successor after ${burst} bursts of 12 requests`);
      await Promise.all(Array.from({ length: 12 }, (_, i) => cacheGet(urls[i % 3]!, origin.url(hot))));
    }
    nodes[names.indexOf(victim)]!.child.kill('SIGKILL');
    const live = urls.filter((_, i) => names[i] !== victim);
    for (const path of owned) {
      for (const entry of live) {
        const answer = await cacheGet(entry, origin.url(path));
        assert.equal(answer.status, 200, `${path} via ${entry}: ${answer.body}`);
        assert.notEqual(answer.node, victim);
      }
    }
    assert.equal(origin.count(hot), 1, 'the hot URL came from the successor copy or a near-cache, not the origin');
    origin.serve('/after', { 'cache-control': 'max-age=600' });
    assert.equal((await cacheGet(live[0]!, origin.url('/after'))).xCache, 'MISS');
    assert.equal((await cacheGet(live[1]!, origin.url('/after'))).xCache, 'HIT');
  });
});
