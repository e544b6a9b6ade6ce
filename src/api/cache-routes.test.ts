// RFC 9111 behaviour of the web cache, one node, against a real origin on
// 127.0.0.1 that the test starts. The cache's clock is the test's, so ages
// and expiry are exact; the origin sends no Date header. The origin is
// reached by the name origin.test, which the injected resolver maps to
// 127.0.0.1 and the allowlist permits; every other name also resolves to
// 127.0.0.1 but is not allowed. No name reaches DNS.
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  cacheGet,
  startCacheRing,
  stopCacheRing,
  TestClock,
  TestOrigin,
  type CacheNode,
} from '../../test/helpers/cache-kit.ts';

const clock = new TestClock();
let origin: TestOrigin;
let node: CacheNode;
let path = '';
let seq = 0;

const url = (p: string) => origin.url(p, 'origin.test');
const get = (headers: Record<string, string> = {}, p = path) => cacheGet(node, url(p), headers);

before(async () => {
  origin = await TestOrigin.start();
  const ring = await startCacheRing(1, {
    flags: { 'cache-allow': 'origin.test', 'cache-origin-timeout-ms': '500', 'cache-max-object-bytes': '4096' },
    resolver: async () => ['127.0.0.1'],
    clock,
  });
  node = ring[0]!;
});
after(async () => {
  await stopCacheRing([node]);
  await origin.close();
});
beforeEach(() => {
  seq += 1;
  path = `/r${seq}`;
});

describe('web cache: Cache-Control', () => {
  it('max-age: a miss, then hits with a growing Age, then a miss once expired', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' });
    const first = await get();
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.equal(first.headers['x-cache-node'], 'c0');
    assert.equal(first.body, `body of ${path}`);
    clock.advance(30);
    const second = await get();
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.headers['age'], '30');
    assert.equal(second.body, `body of ${path}`);
    clock.advance(31);
    assert.equal((await get()).headers['x-cache'], 'MISS');
    assert.equal(origin.count(path), 2);
  });

  it('s-maxage wins over max-age for a shared cache', async () => {
    origin.serve(path, { 'cache-control': 'max-age=600, s-maxage=5' });
    await get();
    clock.advance(6);
    assert.equal((await get()).headers['x-cache'], 'MISS');
    assert.equal(origin.count(path), 2);
  });

  it('Expires gives the lifetime when there is no max-age', async () => {
    const expires = new Date(clock.nowMs + 10_000).toUTCString();
    origin.serve(path, { expires });
    await get();
    clock.advance(9);
    assert.equal((await get()).headers['x-cache'], 'HIT');
    clock.advance(2);
    assert.equal((await get()).headers['x-cache'], 'MISS');
  });

  it('no-store is never stored', async () => {
    origin.serve(path, { 'cache-control': 'no-store, max-age=60' });
    for (let i = 0; i < 3; i += 1) assert.equal((await get()).headers['x-cache'], 'MISS');
    assert.equal(origin.count(path), 3);
  });

  it('private is never stored by this shared cache', async () => {
    origin.serve(path, { 'cache-control': 'private, max-age=60' });
    await get();
    assert.equal((await get()).headers['x-cache'], 'MISS');
    assert.equal(origin.count(path), 2);
  });

  it('a response that sets a cookie is not stored, and its cookie is not passed on', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60', 'set-cookie': 'session=secret' });
    const first = await get();
    assert.equal(first.headers['set-cookie'], undefined);
    assert.equal((await get()).headers['x-cache'], 'MISS');
  });

  it('the client cookie and credentials never reach the origin', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' });
    await get({ cookie: 'a=1', authorization: 'Bearer x', 'accept-language': 'fr' });
    const seen = origin.requests.find((r) => r.path === path)?.headers ?? {};
    assert.equal(seen['cookie'], undefined);
    assert.equal(seen['authorization'], undefined);
    assert.equal(seen['accept-language'], 'fr');
    assert.equal(seen['via'], '1.1 weft');
  });

  it('without explicit freshness, 10% of the time since Last-Modified', async () => {
    const lastModified = new Date(clock.nowMs - 1000_000).toUTCString();
    origin.serve(path, { 'last-modified': lastModified });
    await get();
    clock.advance(99);
    assert.equal((await get()).headers['x-cache'], 'HIT');
    origin.on(path, (_req, res) => {
      res.writeHead(304, { 'last-modified': lastModified });
      res.end();
    });
    clock.advance(2);
    assert.equal((await get()).headers['x-cache'], 'REVALIDATED');
  });
});

describe('web cache: validation', () => {
  it('a stale entry is revalidated with its ETag; the 304 refreshes it and its headers', async () => {
    origin.serve(path, { 'cache-control': 'max-age=10', etag: '"v1"' }, 'version 1');
    await get();
    origin.on(path, (req, res) => {
      assert.equal(req.headers['if-none-match'], '"v1"');
      res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=100' });
      res.end();
    });
    clock.advance(11);
    const revalidated = await get();
    assert.equal(revalidated.headers['x-cache'], 'REVALIDATED');
    assert.equal(revalidated.body, 'version 1');
    assert.equal(revalidated.headers['cache-control'], 'max-age=100');
    clock.advance(50);
    const hit = await get();
    assert.equal(hit.headers['x-cache'], 'HIT', 'the 304 gave the entry its new lifetime');
    assert.equal(hit.headers['age'], '50');
    assert.equal(origin.count(path), 2);
  });

  it('a changed resource answers 200 to the revalidation and replaces the entry', async () => {
    origin.serve(path, { 'cache-control': 'max-age=10', 'last-modified': 'Sun, 06 Nov 1994 08:49:37 GMT' }, 'old');
    await get();
    origin.on(path, (req, res) => {
      assert.equal(req.headers['if-modified-since'], 'Sun, 06 Nov 1994 08:49:37 GMT');
      res.writeHead(200, { 'cache-control': 'max-age=10' });
      res.end('new');
    });
    clock.advance(11);
    const answer = await get();
    assert.equal(answer.headers['x-cache'], 'MISS');
    assert.equal(answer.body, 'new');
    assert.equal((await get()).body, 'new');
  });

  it('no-cache stores but validates on every use', async () => {
    origin.serve(path, { 'cache-control': 'no-cache', etag: '"n"' });
    await get();
    origin.on(path, (_req, res) => {
      res.writeHead(304, { etag: '"n"' });
      res.end();
    });
    assert.equal((await get()).headers['x-cache'], 'REVALIDATED');
    assert.equal((await get()).headers['x-cache'], 'REVALIDATED');
    assert.equal(origin.count(path), 3);
  });

  it("a client's If-None-Match is answered 304 from the store", async () => {
    origin.serve(path, { 'cache-control': 'max-age=60', etag: '"c1"' });
    await get();
    const answer = await get({ 'if-none-match': '"c1"' });
    assert.equal(answer.statusCode, 304);
    assert.equal(answer.body, '');
    assert.equal(answer.headers['etag'], '"c1"');
    assert.equal(answer.headers['x-cache'], 'HIT');
  });

  it('request directives: no-cache revalidates, only-if-cached answers 504 when nothing is stored', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60', etag: '"d"' });
    await get();
    origin.on(path, (_req, res) => {
      res.writeHead(304, { etag: '"d"' });
      res.end();
    });
    assert.equal((await get({ 'cache-control': 'no-cache' })).headers['x-cache'], 'REVALIDATED');
    const missing = await get({ 'cache-control': 'only-if-cached' }, `${path}-never`);
    assert.equal(missing.statusCode, 504);
    assert.equal(missing.json().error.code, 'NOT_CACHED');
  });
});

describe('web cache: Vary', () => {
  it('keeps one response per Accept-Encoding and serves each to its own requests', async () => {
    origin.on(path, (req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60', vary: 'Accept-Encoding' });
      res.end(`encoded as ${req.headers['accept-encoding'] ?? 'identity'}`);
    });
    assert.equal((await get({ 'accept-encoding': 'gzip' })).body, 'encoded as gzip');
    assert.equal((await get({ 'accept-encoding': 'br' })).body, 'encoded as br');
    const gzip = await get({ 'accept-encoding': 'gzip' });
    assert.equal(gzip.headers['x-cache'], 'HIT');
    assert.equal(gzip.body, 'encoded as gzip');
    assert.equal((await get({ 'accept-encoding': 'br' })).headers['x-cache'], 'HIT');
    assert.equal((await get()).body, 'encoded as identity');
    assert.equal(origin.count(path), 3);
  });
});

describe('web cache: stale content', () => {
  it('stale-while-revalidate serves stale at once and refreshes in the background', async () => {
    let version = 1;
    origin.on(path, (_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=10, stale-while-revalidate=60' });
      res.end(`version ${version}`);
    });
    await get();
    version = 2;
    clock.advance(20);
    const stale = await get();
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.equal(stale.body, 'version 1');
    await node.cache.settle();
    const fresh = await get();
    assert.equal(fresh.headers['x-cache'], 'HIT');
    assert.equal(fresh.body, 'version 2');
    assert.equal(origin.count(path), 2);
  });

  it('stale-if-error serves stale when the origin fails with a 5xx, within its window', async () => {
    origin.serve(path, { 'cache-control': 'max-age=10, stale-if-error=60' }, 'good');
    await get();
    origin.serve(path, {}, 'broken', 503);
    clock.advance(20);
    const stale = await get();
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.equal(stale.body, 'good');
    clock.advance(60);
    const failed = await get();
    assert.equal(failed.statusCode, 503, 'past the window the origin answer is passed on');
  });

  it('stale-if-error serves stale when the origin is down', async () => {
    const down = await TestOrigin.start();
    down.serve('/x', { 'cache-control': 'max-age=10, stale-if-error=60' }, 'kept');
    const target = down.url('/x', 'origin.test');
    await cacheGet(node, target);
    await down.close();
    clock.advance(20);
    const stale = await cacheGet(node, target);
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.equal(stale.body, 'kept');
  });

  it('must-revalidate forbids stale: an origin that is down is a 502', async () => {
    const down = await TestOrigin.start();
    down.serve('/y', { 'cache-control': 'max-age=10, must-revalidate, stale-if-error=60' });
    const target = down.url('/y', 'origin.test');
    await cacheGet(node, target);
    await down.close();
    clock.advance(20);
    const answer = await cacheGet(node, target);
    assert.equal(answer.statusCode, 502);
    assert.equal(answer.json().error.code, 'ORIGIN_UNREACHABLE');
  });
});

describe('web cache: purge, errors and limits', () => {
  it('DELETE /cache purges the URL', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' });
    await get();
    const purged = await node.app.inject({ method: 'DELETE', url: `/cache?url=${encodeURIComponent(url(path))}` });
    assert.deepEqual(purged.json(), { url: url(path), removed: 1, nodes: 1 });
    assert.equal((await get()).headers['x-cache'], 'MISS');
  });

  it('HEAD answers the headers of the stored GET', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' }, 'twelve bytes');
    await get();
    const head = await node.app.inject({ method: 'HEAD', url: `/cache?url=${encodeURIComponent(url(path))}` });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['x-cache'], 'HIT');
    assert.equal(head.headers['content-length'], '12');
    assert.equal(head.body, '');
  });

  it('refuses bad URLs and unencoded ones with 400', async () => {
    const bad = await node.app.inject({ method: 'GET', url: '/cache?url=ftp%3A%2F%2Fx%2F' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'URL_INVALID');
    const unencoded = await node.app.inject({ method: 'GET', url: '/cache?url=http://origin.test/a?b=1&c=2' });
    assert.equal(unencoded.statusCode, 400);
    assert.match(unencoded.json().error.message, /encode the whole URL/);
    assert.equal((await node.app.inject({ method: 'GET', url: '/cache' })).statusCode, 400);
  });

  it('an object over --cache-max-object-bytes is passed through uncached (MISS), not refused', async () => {
    const body = 'x'.repeat(5000);
    origin.serve(path, { 'cache-control': 'max-age=60', 'content-length': '5000' }, body);
    const before = node.cache.stats().passThrough;
    for (let i = 0; i < 2; i += 1) {
      const answer = await get();
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.headers['x-cache'], 'MISS');
      assert.equal(answer.headers['content-length'], '5000');
      assert.equal(answer.body, body);
    }
    assert.equal(origin.count(path), 2, 'never stored: each request goes to the origin');
    assert.equal(node.cache.stats().passThrough - before, 2);
    const head = await node.app.inject({ method: 'HEAD', url: `/cache?url=${encodeURIComponent(url(path))}` });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], '5000');
    assert.equal(head.body, '');
  });

  it('a body with no Content-Length that grows past the limit is passed through whole, chunked', async () => {
    origin.on(path, (_request, response) => {
      response.writeHead(200, { 'cache-control': 'max-age=60' });
      for (let i = 0; i < 10; i += 1) response.write(`${i}`.repeat(1000));
      response.end();
    });
    const answer = await get();
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['x-cache'], 'MISS');
    assert.equal(answer.headers['content-length'], undefined);
    assert.equal(answer.body, Array.from({ length: 10 }, (_, i) => `${i}`.repeat(1000)).join(''));
  });

  it('an origin that does not answer in time is a 504 ORIGIN_TIMEOUT, never a hang', async () => {
    origin.on(path, () => undefined);
    const answer = await get();
    assert.equal(answer.statusCode, 504);
    assert.equal(answer.json().error.code, 'ORIGIN_TIMEOUT');
  });

  it('follows redirects up to the limit, then a 502 TOO_MANY_REDIRECTS', async () => {
    origin.serve(`${path}-final`, { 'cache-control': 'max-age=60' }, 'arrived');
    origin.serve(path, { location: url(`${path}-final`), 'cache-control': 'max-age=60' }, '', 301);
    const followed = await get();
    assert.equal(followed.statusCode, 200);
    assert.equal(followed.body, 'arrived');
    origin.serve(`${path}-loop`, { location: url(`${path}-loop`) }, '', 302);
    const looping = await get({}, `${path}-loop`);
    assert.equal(looping.statusCode, 502);
    assert.equal(looping.json().error.code, 'TOO_MANY_REDIRECTS');
  });
});

describe('web cache: origin safety end to end (loopback targets only)', () => {
  it('refuses a loopback origin that is not allowlisted, without connecting', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' });
    const answer = await cacheGet(node, origin.url(path, '127.0.0.1'));
    assert.equal(answer.statusCode, 403);
    assert.equal(answer.json().error.code, 'ORIGIN_REFUSED');
    assert.match(answer.json().error.message, /127\.0\.0\.1, a loopback address \(127\.0\.0\.0\/8\)/);
    assert.equal(origin.count(path), 0);
  });

  it('refuses [::1] and the IPv4-mapped form of loopback', async () => {
    for (const host of ['[::1]', '[::ffff:127.0.0.1]']) {
      const answer = await cacheGet(node, origin.url(path, host));
      assert.equal(answer.statusCode, 403, host);
    }
    assert.equal(origin.count(path), 0);
  });

  it('refuses a host name that resolves to loopback', async () => {
    origin.serve(path, { 'cache-control': 'max-age=60' });
    const answer = await cacheGet(node, origin.url(path, 'evil.test'));
    assert.equal(answer.statusCode, 403);
    assert.match(answer.json().error.message, /evil\.test resolves to 127\.0\.0\.1, a loopback address/);
    assert.equal(origin.count(path), 0);
  });

  it('refuses a redirect to loopback', async () => {
    origin.serve(`${path}-inner`, { 'cache-control': 'max-age=60' }, 'internal');
    origin.serve(path, { location: origin.url(`${path}-inner`, '127.0.0.1') }, '', 302);
    const answer = await get();
    assert.equal(answer.statusCode, 403);
    assert.equal(answer.json().error.code, 'ORIGIN_REFUSED');
    assert.equal(origin.count(`${path}-inner`), 0);
  });

  it('counts results and refusals in /v1/cache/stats and /metrics', async () => {
    const stats = (await node.app.inject({ method: 'GET', url: '/v1/cache/stats' })).json();
    assert.ok(stats.hits > 0 && stats.misses > 0 && stats.revalidations > 0 && stats.staleServes > 0);
    assert.ok(stats.refused >= 4, `refused ${stats.refused}`);
    assert.ok(stats.storedBytes > 0);
    assert.ok(stats.hitRatio > 0 && stats.hitRatio < 1);
    const metrics = await node.registry.metrics();
    assert.match(metrics, /weft_cache_requests_total\{result="hit"\} \d+/);
    assert.match(metrics, /weft_cache_origin_seconds_count \d+/);
  });
});
