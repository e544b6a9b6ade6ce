import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WeftError } from '../core/errors.ts';
import type { KvService } from '../node/kv-service.ts';
import { kvJson, QueryParams } from './kv-http-codec.ts';

/**
 * Seed 002's (Lab 9) routes, kept for its clients: GET /write?key=&value=
 * stores a value and answers {"status": "written"}; GET /read?key= answers
 * the item ({key, value, createRevision, modRevision, version, lease}) or {}
 * when the key is absent, as the seed's DynamoDB get_item did. Both are
 * UTF-8 text only. Reads are linearizable.
 */
export function registerLab9Routes(scope: FastifyInstance, kv: KvService): void {
  scope.get('/write', async (request: FastifyRequest) => {
    const query = new QueryParams(request.url, ['key', 'value']);
    const key = required(query.bytes('key', 'text'), 'key');
    const value = required(query.bytes('value', 'text'), 'value');
    await kv.put({ key, value });
    return { status: 'written' };
  });

  scope.get('/read', async (request: FastifyRequest) => {
    const query = new QueryParams(request.url, ['key']);
    const key = required(query.bytes('key', 'text'), 'key');
    const found = (await kv.range({ key })).response.kvs[0];
    return found === undefined ? {} : kvJson(found, 'text');
  });
}

function required(value: Uint8Array | undefined, name: string): Uint8Array {
  if (value === undefined) throw new WeftError('INVALID_REQUEST', `query parameter "${name}" is required`);
  if (name === 'key' && value.length === 0) throw new WeftError('INVALID_REQUEST', 'the key must not be empty');
  return value;
}
