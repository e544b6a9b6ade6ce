import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hexId } from '../core/ids.ts';
import { WeftError } from '../core/errors.ts';
import { prefixEnd } from '../kv/key-range.ts';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../kv/limits.ts';
import type { ClusterService, KvService } from '../node/kv-service.ts';
import { fieldBytes, kvJson, percentDecode, QueryParams, type FieldEncoding } from './kv-http-codec.ts';
import { sendError } from './kv-http-errors.ts';
import { registerLab9Routes } from './lab9-routes.ts';

export interface KvRoutesDeps {
  readonly kv: KvService;
  readonly cluster: ClusterService;
  /** The store's limits; the body limit is derived from them. @default DEFAULT_KV_LIMITS */
  readonly limits?: KvLimits;
}

/**
 * A request body may be larger than the value it carries (JSON escapes,
 * base64): twice the store's request limit leaves room for that, and the
 * store still checks the value itself.
 */
export function maxHttpBodyBytes(limits: KvLimits): number {
  return 2 * limits.maxRequestBytes;
}

const keyPrefix = '/v1/kv/';

/**
 * The JSON API of the replicated KV store (docs/api.md): /v1/kv, /v1/cluster
 * and the Lab 9 routes, in their own Fastify scope so that their body
 * parsing and error shape do not leak into other routes.
 */
export function registerKvRoutes(app: FastifyInstance, deps: KvRoutesDeps): void {
  const limits = deps.limits ?? DEFAULT_KV_LIMITS;
  void app.register(async (scope) => {
    scope.setErrorHandler(async (error, _request, reply) => sendError(reply, error));
    scope.removeAllContentTypeParsers();
    // Every body arrives as bytes; the handler decides (JSON or the raw value).
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: maxHttpBodyBytes(limits) },
      (_request, body, done) => done(null, body),
    );
    scope.get('/v1/kv/*', (request) => getKey(deps.kv, request));
    scope.put('/v1/kv/*', (request) => putKey(deps.kv, request));
    scope.delete('/v1/kv/*', (request) => deleteKey(deps.kv, request));
    scope.get('/v1/kv', (request) => listKeys(deps.kv, request));
    scope.get('/v1/cluster', (request) => clusterView(deps.cluster, request));
    registerLab9Routes(scope, deps.kv);
  });
}

/** The key named by the path after /v1/kv/, decoded from the raw URL. */
function pathKey(request: FastifyRequest, encoding: FieldEncoding): Uint8Array {
  const path = request.url.split('?')[0]!.slice(keyPrefix.length);
  const key = fieldBytes(percentDecode(path, false), encoding, 'the key in the path');
  if (key.length === 0) {
    throw new WeftError('INVALID_REQUEST', 'no key in the path; use /v1/kv/<key>, or GET /v1/kv?prefix= to list');
  }
  return key;
}

async function getKey(kv: KvService, request: FastifyRequest) {
  const query = new QueryParams(request.url, ['encoding', 'consistency', 'revision']);
  const encoding = query.encoding();
  const key = pathKey(request, encoding);
  const answer = await kv.range({ key, revision: query.count('revision') }, { consistency: query.consistency() });
  const found = answer.response.kvs[0];
  if (found === undefined) {
    const name = Buffer.from(key).toString(encoding === 'text' ? 'utf8' : 'base64');
    throw new WeftError('KEY_NOT_FOUND', `no key ${JSON.stringify(name)} at revision ${answer.header.revision}`);
  }
  return { revision: answer.header.revision, kv: kvJson(found, encoding) };
}

async function putKey(kv: KvService, request: FastifyRequest) {
  const query = new QueryParams(request.url, ['encoding', 'prevKv']);
  const encoding = query.encoding();
  const key = pathKey(request, encoding);
  const value = bodyValue(request, encoding);
  const answer = await kv.put({ key, value, prevKv: query.flag('prevKv') });
  const prev = answer.response.prevKv;
  return { revision: answer.header.revision, ...(prev && { prevKv: kvJson(prev, encoding) }) };
}

/**
 * The value of a PUT: with Content-Type application/json a body
 * {"value": "..."}; otherwise the body itself. Either way the value is
 * written in the request's encoding (UTF-8 text, or base64).
 */
function bodyValue(request: FastifyRequest, encoding: FieldEncoding): Uint8Array {
  const body = request.body instanceof Buffer ? request.body : Buffer.alloc(0);
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    return fieldBytes(body, encoding, 'the body');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (error) {
    throw new WeftError('INVALID_REQUEST', `the body is not valid JSON (${(error as Error).message})`);
  }
  const value = (parsed as { value?: unknown } | null)?.value;
  if (typeof value !== 'string') {
    throw new WeftError('INVALID_REQUEST', 'a JSON body must be an object {"value": "<string>"}');
  }
  return fieldBytes(Buffer.from(value, 'utf8'), encoding, 'the "value" field');
}

async function deleteKey(kv: KvService, request: FastifyRequest) {
  const query = new QueryParams(request.url, ['encoding', 'prefix']);
  const encoding = query.encoding();
  const key = pathKey(request, encoding);
  const rangeEnd = query.flag('prefix') ? prefixEnd(key) : undefined;
  const answer = await kv.deleteRange({ key, ...(rangeEnd && { rangeEnd }) });
  return { revision: answer.header.revision, deleted: answer.response.deleted };
}

async function listKeys(kv: KvService, request: FastifyRequest) {
  const query = new QueryParams(request.url, ['prefix', 'limit', 'revision', 'encoding', 'consistency']);
  const encoding = query.encoding();
  const prefix = query.bytes('prefix', encoding) ?? new Uint8Array(0);
  // An empty prefix lists every key: etcd's range from "\0" to "\0".
  const key = prefix.length > 0 ? prefix : new Uint8Array([0]);
  const rangeEnd = prefix.length > 0 ? prefixEnd(prefix) : new Uint8Array([0]);
  const answer = await kv.range(
    { key, rangeEnd, limit: query.count('limit'), revision: query.count('revision') },
    { consistency: query.consistency() },
  );
  const { kvs, more, count } = answer.response;
  return { revision: answer.header.revision, kvs: kvs.map((kv) => kvJson(kv, encoding)), more, count };
}

async function clusterView(cluster: ClusterService, request: FastifyRequest) {
  new QueryParams(request.url, []); // takes no parameters: rejects any
  const [status, members] = await Promise.all([cluster.status(), cluster.members()]);
  return {
    clusterId: hexId(status.header.clusterId),
    memberId: hexId(status.header.memberId),
    leader: status.leader === 0n ? null : hexId(status.leader),
    term: status.raftTerm,
    commitIndex: status.raftIndex,
    appliedIndex: status.raftAppliedIndex,
    revision: status.header.revision,
    members: members.response.map((m) => ({
      id: hexId(m.id),
      name: m.name,
      peerUrls: m.peerUrls,
      clientUrls: m.clientUrls,
      isLearner: m.isLearner,
      isLeader: m.id === status.leader,
      started: m.started ?? true,
    })),
    successorRanking: status.successorRanking?.map(hexId) ?? null,
    errors: status.errors,
  };
}
