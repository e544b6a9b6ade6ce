// The server's fast path for GET and HEAD /cache, over a real socket on
// 127.0.0.1 (inject() never reaches it): it answers hits, misses and errors
// as the fastify route does, counts them in weft_http_requests_total, and
// leaves every other request to fastify. The cache is a stand-in that
// answers from a table, so nothing here fetches an origin.
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { WeftError } from '../core/errors.ts';
import type { CacheAnswer } from '../node/cache/owner-cache.ts';
import { createNodeMetrics, type NodeMetrics } from '../node/metrics.ts';
import type { HealthReport } from '../node/node.ts';
import type { CacheApi } from './cache-routes.ts';
import { buildHttpApp } from './http-app.ts';

const hit: CacheAnswer = {
  status: 200,
  headers: { 'content-type': 'text/plain', etag: '"a"' },
  body: Buffer.from('stored body'),
  ageSeconds: 4,
  result: 'HIT',
  node: 'n1',
  freshMs: 1000,
};

const asked: string[] = [];
const cache: CacheApi = {
  get(url) {
    asked.push(url);
    if (url === 'http://o.test/hit') return hit;
    if (url === 'http://o.test/miss') return Promise.resolve({ ...hit, result: 'MISS', body: Buffer.from('fetched') });
    if (url === 'http://o.test/refused') return Promise.reject(new WeftError('ORIGIN_REFUSED', 'a loopback address'));
    throw new WeftError('URL_INVALID', `not in the table: ${url}`);
  },
  purge: async (url) => ({ url, removed: 1, nodes: 1 }),
  stats: () => {
    throw new Error('not used');
  },
};

let app: FastifyInstance;
let metrics: NodeMetrics;
let base = '';

const cacheUrl = (target: string): string => `${base}/cache?url=${encodeURIComponent(target)}`;

before(async () => {
  metrics = createNodeMetrics('n1', '0.1.0');
  app = buildHttpApp({
    health: () => ({}) as HealthReport,
    unhealthyReason: () => undefined,
    notReadyReason: () => undefined,
    metrics,
    log: pino({ level: 'silent' }),
    cache,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await app.close();
});

describe('cache fast path', () => {
  it('answers a hit with the stored fields and body, and HEAD with the fields only', async () => {
    const response = await fetch(cacheUrl('http://o.test/hit'));
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'stored body');
    assert.equal(response.headers.get('x-cache'), 'HIT');
    assert.equal(response.headers.get('x-cache-node'), 'n1');
    assert.equal(response.headers.get('age'), '4');
    assert.equal(response.headers.get('etag'), '"a"');
    const head = await fetch(cacheUrl('http://o.test/hit'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '11');
    assert.equal(await head.text(), '');
  });

  it('answers a client revalidation with 304 from the stored response', async () => {
    const response = await fetch(cacheUrl('http://o.test/hit'), { headers: { 'if-none-match': '"a"' } });
    assert.equal(response.status, 304);
    assert.equal(response.headers.get('etag'), '"a"');
  });

  it('waits for a miss, and answers errors as JSON with their status', async () => {
    const miss = await fetch(cacheUrl('http://o.test/miss'));
    assert.equal(await miss.text(), 'fetched');
    assert.equal(miss.headers.get('x-cache'), 'MISS');
    const refused = await fetch(cacheUrl('http://o.test/refused'));
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ORIGIN_REFUSED');
    const unencoded = await fetch(`${base}/cache?url=http://o.test/a?b=1&c=2`);
    assert.equal(unencoded.status, 400);
    assert.match(((await unencoded.json()) as { error: { message: string } }).error.message, /encode the whole URL/);
    assert.equal((await fetch(`${base}/cache`)).status, 400);
    assert.equal((await fetch(`${base}/cache?url=a&url=b`)).status, 400);
  });

  it('decodes the url parameter as the fastify route does', async () => {
    asked.length = 0;
    await fetch(cacheUrl('http://o.test/hit'));
    await app.inject({ method: 'GET', url: `/cache?url=${encodeURIComponent('http://o.test/hit')}` });
    assert.deepEqual(asked, ['http://o.test/hit', 'http://o.test/hit']);
  });

  it('leaves other routes and methods to fastify', async () => {
    const purged = await fetch(cacheUrl('http://o.test/hit'), { method: 'DELETE' });
    assert.deepEqual(await purged.json(), { url: 'http://o.test/hit', removed: 1, nodes: 1 });
    assert.equal((await fetch(`${base}/cachex`)).status, 404);
    assert.equal((await fetch(`${base}/ready`)).status, 200);
  });

  it('counts what it answered in weft_http_requests_total', async () => {
    const text = await metrics.registry.metrics();
    assert.match(text, /weft_http_requests_total\{[^}]*route="\/cache"[^}]*method="GET"[^}]*status="200"[^}]*\} [1-9]/);
    assert.match(text, /weft_http_requests_total\{[^}]*route="\/cache"[^}]*method="HEAD"[^}]*status="200"[^}]*\} 1/);
    assert.match(text, /weft_http_requests_total\{[^}]*route="\/cache"[^}]*method="GET"[^}]*status="403"[^}]*\} 1/);
  });
});
