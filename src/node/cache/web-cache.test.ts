// The web cache spread over three DHT members on the in-memory transport:
// entry nodes forward to the owner, concurrent misses through every node
// make one origin request, hot URLs are near-cached and copied to the
// owner's successor, a crashed owner's URLs keep being served, and a purge
// reaches every copy. The origin is real, on 127.0.0.1.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  cacheGet,
  startCacheRing,
  stopCacheRing,
  TestOrigin,
  type CacheNode,
} from '../../../test/helpers/cache-kit.ts';

let origin: TestOrigin;
let nodes: CacheNode[];

const url = (path: string): string => origin.url(path, '127.0.0.1');
const ownerOf = (path: string): CacheNode => {
  const id = nodes[0]!.dht.idOf(url(path));
  const owners = nodes.filter((n) => n.dht.owns(id));
  assert.equal(owners.length, 1, `one owner of ${path}`);
  return owners[0]!;
};
/** A fresh path owned by `owner`, and the nodes that do not own it. */
const pathOwnedBy = (owner: CacheNode, prefix: string): { path: string; others: CacheNode[] } => {
  for (let i = 0; i < 1000; i += 1) {
    const path = `/${prefix}-${i}`;
    if (ownerOf(path) === owner) return { path, others: nodes.filter((n) => n !== owner) };
  }
  throw new Error(`no path owned by ${owner.id}`);
};

before(async () => {
  origin = await TestOrigin.start();
  nodes = await startCacheRing(3, { flags: { 'cache-allow': '127.0.0.1/32', 'cache-hot-rps': '5' } });
});
after(async () => {
  await stopCacheRing(nodes);
  await origin.close();
});

describe('web cache over three DHT members', () => {
  it('an entry node forwards to the owner, which answers from its store', async () => {
    const owner = nodes[0]!;
    const { path, others } = pathOwnedBy(owner, 'fwd');
    origin.serve(path, { 'cache-control': 'max-age=60' });
    const miss = await cacheGet(others[0]!, url(path));
    assert.equal(miss.headers['x-cache'], 'MISS');
    assert.equal(miss.headers['x-cache-node'], owner.id);
    const hit = await cacheGet(others[1]!, url(path));
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.equal(hit.headers['x-cache-node'], owner.id);
    assert.equal(hit.body, `body of ${path}`);
    assert.equal(origin.count(path), 1);
  });

  it('100 concurrent requests for one cold URL through three nodes make one origin request', async () => {
    const path = '/cold';
    origin.on(path, (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60' });
        res.end('cold body');
      }, 200);
    });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => cacheGet(nodes[i % 3]!, url(path))));
    assert.equal(origin.count(path), 1);
    for (const answer of answers) {
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.body, 'cold body');
    }
    const coalesced = nodes.reduce((sum, n) => sum + n.cache.stats().coalesced, 0);
    assert.equal(coalesced, 99);
  });

  it('a hot URL is near-cached by the entry node and copied to the owner successor', async () => {
    const owner = nodes[1]!;
    const { path, others } = pathOwnedBy(owner, 'hot');
    origin.serve(path, { 'cache-control': 'max-age=60' });
    const entry = others[0]!;
    const results = [];
    for (let i = 0; i < 10; i += 1) results.push((await cacheGet(entry, url(path))).headers['x-cache-node']);
    assert.equal(results[0], owner.id);
    assert.equal(results.at(-1), entry.id, `served from the near-cache at last: ${results.join(' ')}`);
    assert.ok(entry.cache.stats().nearHits > 0);
    await owner.cache.settle();
    const successor = nodes.find((n) => n.transport.address === owner.dht.successorAddresses()[0])!;
    assert.ok(successor.cache.stats().replicasReceived >= 1, 'the successor holds a copy');
    assert.equal(origin.count(path), 1);
  });

  it('DELETE purges the owner, its successor copy and the near-caches', async () => {
    const owner = nodes[2]!;
    const { path, others } = pathOwnedBy(owner, 'purge');
    origin.serve(path, { 'cache-control': 'max-age=60' });
    for (let i = 0; i < 8; i += 1) await cacheGet(others[0]!, url(path));
    await owner.cache.settle();
    const purge = await others[1]!.app.inject({ method: 'DELETE', url: `/cache?url=${encodeURIComponent(url(path))}` });
    const answer = purge.json();
    assert.ok(answer.removed >= 3, `owner, successor copy and one near-cache: ${JSON.stringify(answer)}`);
    const after = await cacheGet(others[0]!, url(path));
    assert.equal(after.headers['x-cache'], 'MISS');
    assert.equal(origin.count(path), 2);
  });

  it('after the owner crashes, its hot URL is served from the successor copy and its other URLs refetched', async () => {
    const owner = nodes[0]!;
    const hot = pathOwnedBy(owner, 'crash-hot');
    const cold = pathOwnedBy(owner, 'crash-cold');
    origin.serve(hot.path, { 'cache-control': 'max-age=60' });
    origin.serve(cold.path, { 'cache-control': 'max-age=60' });
    for (let i = 0; i < 8; i += 1) await cacheGet(hot.others[0]!, url(hot.path));
    await cacheGet(hot.others[0]!, url(cold.path));
    await owner.cache.settle();
    await owner.transport.close();
    const entry = hot.others[1]!;
    const hotAnswer = await cacheGet(entry, url(hot.path));
    assert.equal(hotAnswer.statusCode, 200);
    assert.equal(hotAnswer.headers['x-cache'], 'HIT');
    assert.notEqual(hotAnswer.headers['x-cache-node'], owner.id);
    assert.equal(origin.count(hot.path), 1, 'the copy answered; the origin was not asked again');
    const coldAnswer = await cacheGet(entry, url(cold.path));
    assert.equal(coldAnswer.statusCode, 200);
    assert.equal(coldAnswer.body, `body of ${cold.path}`);
  });
});
