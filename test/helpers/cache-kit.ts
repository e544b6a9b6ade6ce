import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { registerCacheRoutes } from '../../src/api/cache-routes.ts';
import { resolveConfig } from '../../src/core/config-schema.ts';
import type { Resolver } from '../../src/node/cache/origin-client.ts';
import { WebCache } from '../../src/node/cache/web-cache.ts';
import { finalizeNodeConfig, nodeConfigSchema, type NodeConfig } from '../../src/node/config.ts';
import { Dht } from '../../src/node/dht/dht.ts';
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory-transport.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * An origin server on 127.0.0.1 with one handler per path. It counts the
 * requests each path received and keeps their headers. It sends no Date
 * header, so freshness follows the cache's (test) clock alone.
 */
export class TestOrigin {
  readonly requests: { path: string; headers: IncomingMessage['headers'] }[] = [];
  private readonly handlers = new Map<string, Handler>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<TestOrigin> {
    const holder: { origin?: TestOrigin } = {};
    const server = createServer((request, response) => {
      response.sendDate = false;
      const path = request.url ?? '/';
      holder.origin?.requests.push({ path, headers: request.headers });
      const handler = holder.origin?.handlers.get(path);
      if (handler === undefined) {
        response.statusCode = 404;
        response.end('no handler');
        return;
      }
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.origin = new TestOrigin(server);
    return holder.origin;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** http://<host>:<port><path>; the host defaults to the loopback address itself. */
  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  on(path: string, handler: Handler): void {
    this.handlers.set(path, handler);
  }

  /** Answer `path` with `body` and the given response fields. */
  serve(path: string, headers: Record<string, string>, body = `body of ${path}`, status = 200): void {
    this.on(path, (_request, response) => {
      response.writeHead(status, headers);
      response.end(body);
    });
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A clock the test moves by hand. */
export class TestClock {
  nowMs = Date.UTC(2026, 10, 22, 12, 0, 0);
  readonly read = (): number => this.nowMs;

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }
}

export interface CacheNode {
  readonly id: string;
  readonly transport: MemoryTransport;
  readonly dht: Dht;
  readonly cache: WebCache;
  readonly app: FastifyInstance;
  readonly registry: Registry;
}

export interface RingOptions {
  /** Extra `weft node` flags for every node, e.g. { 'cache-allow': '127.0.0.1' }. */
  readonly flags?: Record<string, string>;
  readonly resolver?: Resolver;
  readonly clock?: TestClock;
}

const silent = pino({ level: 'silent' });

/**
 * `count` nodes on one in-memory network, each with its DHT member, web
 * cache and cache routes (served through inject(), no sockets except the
 * cache's own connections to the loopback origin). Resolves once the ring
 * has converged.
 */
export async function startCacheRing(count: number, options: RingOptions = {}): Promise<CacheNode[]> {
  const network = new MemoryNetwork();
  const peers = Array.from({ length: count }, (_, i) => `c${i}=mem${i}:1`).join(',');
  const nodes = Array.from({ length: count }, (_, i) => {
    const flags = { id: `c${i}`, peers, 'dht-stabilize-ms': '20', 'dht-rpc-timeout-ms': '200', ...options.flags };
    const config: NodeConfig = finalizeNodeConfig(resolveConfig(nodeConfigSchema, { flags, env: {}, file: {} }));
    const transport = network.join(`mem${i}:1`, { nodeId: `c${i}`, version: 't' });
    const dht = new Dht(transport, config, silent);
    const registry = new Registry();
    const cache = new WebCache({
      nodeId: config.id,
      transport,
      dht,
      config,
      log: silent,
      registry,
      ...(options.resolver !== undefined ? { resolver: options.resolver } : {}),
      ...(options.clock !== undefined ? { clock: options.clock.read } : {}),
    });
    const app = Fastify({ logger: false });
    registerCacheRoutes(app, cache, silent);
    return { id: config.id, transport, dht, cache, app, registry };
  });
  for (const node of nodes) node.dht.start();
  const deadline = Date.now() + 20_000;
  while (!converged(nodes)) {
    if (Date.now() > deadline) throw new Error('the cache ring did not converge');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return nodes;
}

/** Every node joined, and each id is owned by exactly one node. */
function converged(nodes: readonly CacheNode[]): boolean {
  if (!nodes.every((n) => n.dht.joined)) return false;
  const probes = Array.from({ length: 32 }, (_, i) => nodes[0]!.dht.idOf(`probe-${i}`));
  return probes.every((id) => nodes.filter((n) => n.dht.owns(id)).length === 1);
}

export async function stopCacheRing(nodes: readonly CacheNode[]): Promise<void> {
  for (const node of nodes) {
    await node.cache.stop();
    await node.app.close();
    await node.dht.stop();
    await node.transport.close();
  }
}

/** GET /cache?url=<url> through inject(). */
export function cacheGet(node: CacheNode, url: string, headers: Record<string, string> = {}) {
  return node.app.inject({ method: 'GET', url: `/cache?url=${encodeURIComponent(url)}`, headers });
}
