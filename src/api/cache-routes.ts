import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientNotModified, notModifiedFields } from '../cache/conditional.ts';
import type { HeaderMap } from '../cache/freshness.ts';
import { WeftError } from '../core/errors.ts';
import type { PurgeAnswer } from '../node/cache/cache-wire.ts';
import { forwardedFields, type CacheAnswer } from '../node/cache/owner-cache.ts';
import type { CacheStats } from '../node/cache/web-cache.ts';

/** What the routes need of the node's web cache (src/node/cache/web-cache.ts). */
export interface CacheApi {
  get(url: string, headers: HeaderMap): CacheAnswer | Promise<CacheAnswer>;
  purge(url: string): Promise<PurgeAnswer>;
  stats(): CacheStats;
}

/** Request fields the cache reads: content negotiation (forwarded to the origin and matched by Vary) and caching directives. */
const readFields = [...forwardedFields, 'cache-control', 'pragma', 'if-none-match', 'if-modified-since'];

/**
 * The web cache over HTTP (docs/cache.md): GET and HEAD /cache?url=, DELETE
 * /cache?url=, GET /v1/cache/stats. Errors are JSON with a 4xx status for
 * the request, 403 for a refused origin, 502/504 for an origin that failed.
 */
export function registerCacheRoutes(app: FastifyInstance, cache: CacheApi): void {
  app.get('/cache', async (request, reply) => {
    try {
      const fields = requestFields(request);
      const answer = await cache.get(urlParameter(request), fields);
      send(request, fields, reply, answer);
      return reply;
    } catch (error) {
      return fail(reply, error);
    }
  });
  app.delete('/cache', async (request, reply) => {
    try {
      return await cache.purge(urlParameter(request));
    } catch (error) {
      return fail(reply, error);
    }
  });
  app.get('/v1/cache/stats', async () => cache.stats());
}

function urlParameter(request: FastifyRequest): string {
  const query = request.query as Record<string, unknown>;
  const url = query['url'];
  let extra = false;
  for (const key in query) extra ||= key !== 'url';
  if (extra) {
    const others = Object.keys(query).filter((k) => k !== 'url');
    throw new WeftError(
      'URL_INVALID',
      `unexpected query parameters ${others.join(', ')}: encode the whole URL, e.g. ?url=${encodeURIComponent('http://host/a?b=1&c=2')}`,
    );
  }
  if (typeof url !== 'string') throw new WeftError('URL_INVALID', 'give the URL to fetch once, as ?url=<encoded URL>');
  return url;
}

function requestFields(request: FastifyRequest): HeaderMap {
  const fields: Record<string, string> = {};
  for (const name of readFields) {
    const value = request.headers[name];
    if (value !== undefined) fields[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return fields;
}

/**
 * Write the answer straight to the socket: one writeHead with a flat header
 * list, then the stored bytes. This skips fastify's reply pipeline (the
 * hit path is what the nginx comparison measures); onResponse hooks still
 * run. A HEAD gets the headers only.
 */
function send(request: FastifyRequest, fields: HeaderMap, reply: FastifyReply, answer: CacheAnswer): void {
  const notModified = clientNotModified(fields, answer.status, answer.headers);
  const list: string[] = [];
  if (notModified) {
    for (const name of notModifiedFields) {
      const value = answer.headers[name];
      if (value !== undefined) list.push(name, value);
    }
  } else {
    for (const name in answer.headers) list.push(name, answer.headers[name] ?? '');
    list.push('content-length', String(answer.body.length));
  }
  list.push('age', String(answer.ageSeconds), 'x-cache', answer.result, 'x-cache-node', answer.node);
  reply.hijack();
  reply.raw.writeHead(notModified ? 304 : answer.status, list);
  reply.raw.end(notModified || request.method === 'HEAD' ? undefined : answer.body);
}

function fail(reply: FastifyReply, error: unknown): FastifyReply {
  if (!(error instanceof WeftError)) throw error;
  return reply.code(statusOf(error)).send({ error: { code: error.code, message: error.message } });
}

function statusOf(error: WeftError): number {
  switch (error.code) {
    case 'URL_INVALID':
    case 'BAD_REQUEST':
      return 400;
    case 'ORIGIN_REFUSED':
      return 403;
    case 'ORIGIN_TIMEOUT':
    case 'NOT_CACHED':
    case 'TIMEOUT':
      return 504;
    case 'NO_ROUTE':
    case 'NOT_IN_RING':
    case 'NOT_OWNER':
    case 'PEER_UNREACHABLE':
    case 'ABORTED':
      return 503;
    default:
      return 502;
  }
}
