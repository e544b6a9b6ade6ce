import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { clientNotModified, notModifiedFields } from '../cache/conditional.ts';
import type { HeaderMap } from '../cache/freshness.ts';
import { WeftError } from '../core/errors.ts';
import type { PurgeAnswer } from '../node/cache/cache-wire.ts';
import type { Logger } from '../node/logger.ts';
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
 * GET and HEAD are answered by answerCache on the raw request, whether they
 * come through this route or through the server's fast path (cacheFastPath).
 */
export function registerCacheRoutes(app: FastifyInstance, cache: CacheApi, log: Logger): void {
  app.get('/cache', (request, reply) => {
    reply.hijack();
    return answerCache(cache, log, request.raw, reply.raw);
  });
  app.delete('/cache', async (request, reply) => {
    try {
      return await cache.purge(urlParameter(request.raw.url ?? ''));
    } catch (error) {
      return fail(reply, error);
    }
  });
  app.get('/v1/cache/stats', async () => cache.stats());
}

/**
 * A request listener to run before fastify's: it answers GET and HEAD
 * /cache?url= itself and returns true, or returns false for fastify to
 * route. The cache hit is what the nginx comparison measures, and fastify's
 * routing, hooks and reply pipeline cost more than the hit itself
 * (docs/results.md#web-cache); `answered` counts the request as fastify's
 * onResponse hook counts the others.
 */
export function cacheFastPath(
  cache: CacheApi,
  log: Logger,
  answered: (method: string, status: number) => void,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const { method, url } = request;
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined || !isCachePath(url)) return false;
    const done = answerCache(cache, log, request, response);
    if (done === undefined) answered(method, response.statusCode);
    else void done.then(() => answered(method, response.statusCode));
    return true;
  };
}

/** `/cache` or `/cache?...`, as fastify's router would match the route. */
function isCachePath(url: string): boolean {
  return url.startsWith('/cache') && (url.length === 6 || url.charCodeAt(6) === 63); /* ? */
}

/**
 * Answer a GET or HEAD of /cache?url= on the raw request: one writeHead
 * with a flat header list, then the stored bytes, or a JSON error. A hit is
 * answered synchronously (undefined); otherwise the promise settles once
 * the answer is written, and never rejects.
 */
export function answerCache(
  cache: CacheApi,
  log: Logger,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> | undefined {
  let fields: HeaderMap;
  let answer: CacheAnswer | Promise<CacheAnswer>;
  try {
    fields = requestFields(request);
    answer = cache.get(urlParameter(request.url ?? ''), fields);
  } catch (error) {
    writeError(log, response, error);
    return undefined;
  }
  if (!(answer instanceof Promise)) {
    writeAnswer(request, fields, response, answer);
    return undefined;
  }
  return answer.then(
    (done) => writeAnswer(request, fields, response, done),
    (error: unknown) => writeError(log, response, error),
  );
}

/** The `url` query parameter of a request URL, decoded; anything else in the query is refused. */
function urlParameter(requestUrl: string): string {
  const at = requestUrl.indexOf('?');
  const query = new URLSearchParams(at < 0 ? '' : requestUrl.slice(at + 1));
  let urls = 0;
  let extra = false;
  for (const key of query.keys()) {
    if (key === 'url') urls += 1;
    else extra = true;
  }
  if (extra) {
    const others = [...new Set(query.keys())].filter((k) => k !== 'url');
    throw new WeftError(
      'URL_INVALID',
      `unexpected query parameters ${others.join(', ')}: encode the whole URL, e.g. ?url=${encodeURIComponent('http://host/a?b=1&c=2')}`,
    );
  }
  const url = query.get('url');
  if (urls !== 1 || url === null)
    throw new WeftError('URL_INVALID', 'give the URL to fetch once, as ?url=<encoded URL>');
  return url;
}

function requestFields(request: IncomingMessage): HeaderMap {
  const fields: Record<string, string> = {};
  for (const name of readFields) {
    const value = request.headers[name];
    if (value !== undefined) fields[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return fields;
}

function writeAnswer(request: IncomingMessage, fields: HeaderMap, response: ServerResponse, answer: CacheAnswer): void {
  if (answer.stream !== undefined) {
    writeStreamed(request, response, answer, answer.stream);
    return;
  }
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
  response.writeHead(notModified ? 304 : answer.status, list);
  response.end(notModified || request.method === 'HEAD' ? undefined : answer.body);
}

/**
 * A body too large to store, passed through as it arrives (with the origin's
 * Content-Length when it gave one, chunked otherwise). If the body breaks
 * off (the origin or the owner failed), the connection is destroyed, so the
 * client sees an aborted transfer, never a short body that looks complete.
 */
function writeStreamed(request: IncomingMessage, response: ServerResponse, answer: CacheAnswer, body: Readable): void {
  const list: string[] = [];
  for (const name in answer.headers) list.push(name, answer.headers[name] ?? '');
  list.push('age', String(answer.ageSeconds), 'x-cache', answer.result, 'x-cache-node', answer.node);
  response.writeHead(answer.status, list);
  if (request.method === 'HEAD') {
    body.destroy();
    response.end();
    return;
  }
  // pipeline destroys both sides on a failure either way (a client that left stops the origin fetch).
  pipeline(body, response, () => undefined);
}

/** A typed error as its JSON status; anything else is a 500 INTERNAL, as fastify's error handler would answer. */
function writeError(log: Logger, response: ServerResponse, error: unknown): void {
  const known = error instanceof WeftError;
  if (!known) log.error({ err: error }, 'cache request failed');
  const body = JSON.stringify({
    error: {
      code: known ? error.code : 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
    },
  });
  response.writeHead(known ? statusOf(error) : 500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
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
    case 'OVERLOADED':
    case 'ABORTED':
      return 503;
    default:
      return 502;
  }
}
