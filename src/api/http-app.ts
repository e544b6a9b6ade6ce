import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../node/logger.ts';
import type { NodeMetrics } from '../node/metrics.ts';
import type { HealthReport } from '../node/node.ts';
import { cacheFastPath, registerCacheRoutes, type CacheApi } from './cache-routes.ts';
import type { DhtClient } from './dht-client-api.ts';
import { registerDhtRoutes } from './dht-routes.ts';
import { frameworkErrors } from './kv-http-errors.ts';
import { registerKvRoutes, type KvRoutesDeps } from './kv-routes.ts';

/** The node facts the HTTP layer reads; nothing else crosses this boundary. */
export interface HttpDeps {
  health(): HealthReport;
  /** Why /health should be 503 (no Raft leader, no quorum, removed, stopping), or undefined. */
  unhealthyReason(): string | undefined;
  /** Why the node is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  /** The DHT client API; its routes are served when given. */
  readonly dht?: DhtClient;
  /** The web cache; its routes are served when given. */
  readonly cache?: CacheApi;
  /** The replicated KV store; its JSON routes (/v1/kv, /v1/cluster, /write, /read) are served when given. */
  readonly kv?: KvRoutesDeps;
}

/**
 * The HTTP server's routes. Built without listening so tests use inject().
 * Errors become HTTP statuses here, at the boundary, as JSON
 * `{ error: { code, message } }`.
 */
export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  let closing = false;
  const fast = deps.cache === undefined ? undefined : cacheFastPath(deps.cache, deps.log, counted(deps));
  // Fastify's own request logging is off: one debug line per request is ours.
  const app = Fastify({
    logger: false,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    frameworkErrors,
    // Cache GETs go to the fast path first; while closing, fastify answers everything (503).
    ...(fast === undefined
      ? {}
      : {
          serverFactory: (handler: (request: IncomingMessage, response: ServerResponse) => void, options) => {
            const server = createServer((request, response) => {
              if (closing || !fast(request, response)) handler(request, response);
            });
            // What fastify sets on the server it makes itself.
            server.keepAliveTimeout = options['keepAliveTimeout'] as number;
            server.requestTimeout = options['requestTimeout'] as number;
            server.setTimeout(options['connectionTimeout'] as number);
            return server;
          },
        }),
  });
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    deps.log.debug({ method: request.method, url: request.url, status: reply.statusCode }, 'http request');
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url}; see docs/api.md for the routes`,
      },
    }),
  );

  app.setErrorHandler(async (error: FastifyError, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) deps.log.error({ err: error }, 'request failed');
    return reply.code(status).send({ error: { code: error.code ?? 'INTERNAL', message: error.message } });
  });

  app.get('/health', async (_request, reply) => {
    const reason = deps.unhealthyReason();
    if (reason !== undefined) return reply.code(503).send({ ...deps.health(), unhealthy: reason });
    return deps.health();
  });

  app.get('/ready', async (_request, reply) => {
    const reason = deps.notReadyReason();
    if (reason !== undefined) return reply.code(503).send({ ready: false, reason });
    return { ready: true };
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });

  if (deps.dht !== undefined) registerDhtRoutes(app, deps.dht);
  if (deps.cache !== undefined) registerCacheRoutes(app, deps.cache, deps.log);
  if (deps.kv !== undefined) registerKvRoutes(app, deps.kv);

  return app;
}

/** Counts a request the fast path answered, as the onResponse hook counts the others. */
function counted(deps: HttpDeps): (method: string, status: number) => void {
  // One label set per method and status, built once rather than per request.
  const children = new Map<string, { inc(): void }>();
  return (method, status) => {
    const key = `${method} ${status}`;
    let child = children.get(key);
    if (child === undefined) {
      child = deps.metrics.httpRequests.labels({ route: '/cache', method, status: String(status) });
      children.set(key, child);
    }
    child.inc();
    if (deps.log.isLevelEnabled('debug')) deps.log.debug({ method, url: '/cache', status }, 'http request');
  };
}
