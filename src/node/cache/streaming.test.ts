// Responses too large to store (over --cache-max-object-bytes, 1 MiB here)
// are streamed from the origin to the client, uncached, on three DHT
// members: the client has the first bytes before the origin has sent the
// last (the origin waits for the client to see them before sending the
// rest), the body arrives whole (same SHA-256), through the owner or an
// entry node that is not the owner, and a crashed owner mid-body gives the
// client an aborted transfer, never a short body that looks complete. The
// nodes' HTTP servers and the origin listen on 127.0.0.1 only.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startCacheRing, stopCacheRing, TestOrigin, type CacheNode } from '../../../test/helpers/cache-kit.ts';

const chunkBytes = 64 * 1024;
/** 4 MiB: four times the largest object stored. */
const chunks = 64;
const chunkOf = (i: number): Buffer => Buffer.alloc(chunkBytes, i % 251);
const expectedHash = (() => {
  const hash = createHash('sha256');
  for (let i = 0; i < chunks; i += 1) hash.update(chunkOf(i));
  return hash.digest('hex');
})();

let origin: TestOrigin;
let nodes: CacheNode[];
const bases = new Map<CacheNode, string>();
const events: string[] = [];

const url = (path: string): string => origin.url(path, '127.0.0.1');
const ownerOf = (path: string): CacheNode => nodes.find((n) => n.dht.owns(n.dht.idOf(url(path))))!;
const pathOwnedBy = (owner: CacheNode, prefix: string): { path: string; others: CacheNode[] } => {
  for (let i = 0; i < 1000; i += 1) {
    const path = `/${prefix}-${i}`;
    if (ownerOf(path) === owner) return { path, others: nodes.filter((n) => n !== owner) };
  }
  throw new Error(`no path owned by ${owner.id}`);
};

/**
 * Serve `path` as `chunks` chunks: the first half, then (once `release` is
 * called, i.e. the client has seen bytes) the rest, unless `stall`.
 */
function slowOrigin(
  path: string,
  options: { declared: boolean; stall?: boolean; breakOff?: boolean },
): { release: () => void } {
  let release = (): void => undefined;
  origin.on(path, (_request: IncomingMessage, response: ServerResponse) => {
    const headers: Record<string, string> = {
      'cache-control': 'max-age=60',
      'content-type': 'application/octet-stream',
    };
    if (options.declared) headers['content-length'] = String(chunks * chunkBytes);
    response.writeHead(200, headers);
    for (let i = 0; i < chunks / 2; i += 1) response.write(chunkOf(i));
    events.push('origin sent half');
    if (options.stall === true) return;
    release = () => {
      if (options.breakOff === true) {
        response.destroy();
        return;
      }
      for (let i = chunks / 2; i < chunks; i += 1) response.write(chunkOf(i));
      events.push('origin finished');
      response.end();
    };
  });
  return { release: () => release() };
}

interface Received {
  readonly response: IncomingMessage;
  readonly hash: string;
  readonly bytes: number;
  /** The transfer ended with the whole body (not aborted). */
  readonly complete: boolean;
}

/** GET /cache?url= over a real socket; `onFirstBytes` runs when the first body bytes arrive. */
function fetchThrough(node: CacheNode, target: string, onFirstBytes: () => void): Promise<Received> {
  return new Promise((resolve, reject) => {
    const request = httpGet(`${bases.get(node)}/cache?url=${encodeURIComponent(target)}`, (response) => {
      const hash = createHash('sha256');
      let bytes = 0;
      const finish = (): void => resolve({ response, hash: hash.digest('hex'), bytes, complete: response.complete });
      response.on('data', (chunk: Buffer) => {
        if (bytes === 0) {
          events.push('client got first bytes');
          onFirstBytes();
        }
        bytes += chunk.length;
        hash.update(chunk);
      });
      response.on('end', finish);
      response.on('error', finish); // an aborted transfer: complete stays false
    });
    request.on('error', reject);
  });
}

before(async () => {
  origin = await TestOrigin.start();
  nodes = await startCacheRing(3, {
    flags: {
      'cache-allow': '127.0.0.1/32',
      // Also the idle deadline of a streamed body; generous, as nothing here waits for it but one test.
      'cache-origin-timeout-ms': '3000',
      'cache-max-object-bytes': String(1024 * 1024),
      'cache-near-max-bytes': String(2 * 1024 * 1024),
    },
  });
  for (const node of nodes) {
    await node.app.listen({ host: '127.0.0.1', port: 0 });
    bases.set(node, `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`);
  }
});
after(async () => {
  await stopCacheRing(nodes);
  await origin.close();
});

describe('large responses are streamed, uncached', () => {
  for (const entry of ['the owner', 'a node that is not the owner'] as const) {
    for (const declared of [true, false]) {
      const name = `through ${entry}, ${declared ? 'with' : 'without'} Content-Length: first bytes before the origin ends, body intact, not stored`;
      it(name, { timeout: 30_000 }, async () => {
        const owner = nodes[declared ? 0 : 1]!;
        const { path, others } = pathOwnedBy(owner, `big-${entry.length}-${String(declared)}`);
        const via = entry === 'the owner' ? owner : others[0]!;
        const { release } = slowOrigin(path, { declared });
        events.length = 0;
        const before = owner.cache.stats().passThrough;
        const got = await fetchThrough(via, url(path), release);
        assert.deepEqual(events, ['origin sent half', 'client got first bytes', 'origin finished']);
        assert.equal(got.response.statusCode, 200);
        assert.equal(got.response.headers['x-cache'], 'MISS');
        assert.equal(got.response.headers['x-cache-node'], owner.id);
        assert.equal(got.response.headers['content-length'], declared ? String(chunks * chunkBytes) : undefined);
        assert.equal(got.complete, true);
        assert.equal(got.bytes, chunks * chunkBytes);
        assert.equal(got.hash, expectedHash);
        assert.equal(owner.cache.stats().passThrough - before, 1);
        assert.equal(owner.cache.stats().storedUrls, 0, 'too large to store');
        const again = await fetchThrough(via, url(path), release);
        assert.equal(again.hash, expectedHash);
        assert.equal(origin.count(path), 2, 'each request goes to the origin');
      });
    }
  }

  for (const failure of ['closes the connection', 'stalls'] as const) {
    it(`an origin that ${failure} mid-body: the client sees an aborted transfer`, { timeout: 30_000 }, async () => {
      const owner = nodes[0]!;
      const { path, others } = pathOwnedBy(owner, `big-${failure.length}`);
      const { release } = slowOrigin(path, {
        declared: true,
        stall: failure === 'stalls',
        breakOff: failure === 'closes the connection',
      });
      const got = await fetchThrough(others[1]!, url(path), release);
      assert.equal(got.response.statusCode, 200);
      assert.equal(got.response.headers['content-length'], String(chunks * chunkBytes));
      assert.equal(got.complete, false, 'aborted, not ended');
      assert.ok(got.bytes < chunks * chunkBytes);
    });
  }

  it('a client that leaves mid-body closes the origin connection', { timeout: 30_000 }, async () => {
    const owner = nodes[1]!;
    const { path, others } = pathOwnedBy(owner, 'big-leave');
    const originClosed = new Promise<void>((resolve) => {
      origin.on(path, (_request, response) => {
        response.on('close', () => resolve());
        response.writeHead(200, { 'cache-control': 'max-age=60' });
        for (let i = 0; i < chunks / 2; i += 1) response.write(chunkOf(i));
      });
    });
    await new Promise<void>((resolve, reject) => {
      const request = httpGet(`${bases.get(others[0]!)}/cache?url=${encodeURIComponent(url(path))}`, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', (error) => {
        if (!request.destroyed) reject(error);
      });
    });
    await originClosed;
  });

  it('the owner lost mid-body: the client sees an aborted transfer', { timeout: 30_000 }, async () => {
    const owner = nodes[2]!;
    const { path, others } = pathOwnedBy(owner, 'big-crash');
    const entry = others[0]!;
    slowOrigin(path, { declared: false, stall: true });
    const got = await fetchThrough(entry, url(path), () => void owner.transport.close());
    assert.equal(got.response.statusCode, 200);
    assert.equal(got.complete, false, 'aborted, not ended');
    assert.ok(got.bytes < chunks * chunkBytes);
    assert.equal(got.response.headers['x-cache-node'], owner.id);
  });
});
