// Payloads between nodes: what one node encodes the other decodes unchanged,
// and a payload of the wrong shape (another version, a broken peer) is a
// DECODE_FAILED naming the field, before any of it reaches the cache.
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import {
  decodeAnswer,
  decodeGetRequest,
  decodePurgeAnswer,
  decodePurgeRequest,
  decodeReplica,
  encodeAnswer,
  encodeJson,
  encodeReplica,
} from './cache-wire.ts';
import type { CacheAnswer } from './owner-cache.ts';
import { storedResponse } from './stored-response.ts';

const answer: CacheAnswer = {
  status: 200,
  headers: { 'content-type': 'text/plain', etag: '"v1"' },
  body: Buffer.from('body bytes'),
  ageSeconds: 3,
  result: 'HIT',
  node: 'n2',
  freshMs: 1500,
};

/** An answer frame with `head` as its JSON head. */
function answerFrame(head: Record<string, unknown>): Uint8Array {
  const json = Buffer.from(JSON.stringify(head));
  const out = Buffer.alloc(4 + json.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  return out;
}

const rejectsWith = (decode: () => unknown, pattern: RegExp): void => {
  assert.throws(decode, (e: unknown) => isWeftError(e, 'DECODE_FAILED') && pattern.test(e.message));
};

describe('cache wire', () => {
  it('round-trips answers, replicas and requests', () => {
    assert.deepEqual(decodeAnswer(encodeAnswer(answer)), answer);
    const streamed = { ...answer, body: Buffer.alloc(0), stream: Readable.from([]) };
    assert.deepEqual(decodeAnswer(encodeAnswer(streamed, 7)), { ...answer, body: Buffer.alloc(0), bodyStream: 7 });
    const freshness = {
      responseTimeMs: 1_000,
      correctedInitialAgeSeconds: 0,
      lifetimeSeconds: 60,
      staleWhileRevalidateSeconds: 0,
      staleIfErrorSeconds: 30,
      mustRevalidate: false,
      noCache: false,
    };
    const stored = storedResponse(
      { status: 200, headers: { vary: 'accept' }, body: Buffer.from('x'), varyFields: ['accept'], varyKey: 'text' },
      freshness,
    );
    const replica = decodeReplica(encodeReplica('http://o.test/a', stored));
    assert.equal(replica.url, 'http://o.test/a');
    assert.deepEqual(replica.freshness, freshness);
    assert.deepEqual(replica.varyFields, ['accept']);
    assert.equal(replica.body.toString(), 'x');
    const get = { url: 'http://o.test/a', headers: { accept: '*/*' }, hot: true, standIn: false };
    assert.deepEqual(decodeGetRequest(encodeJson(get)), get);
    assert.deepEqual(decodePurgeRequest(encodeJson({ url: 'u', local: true })), { url: 'u', local: true });
    assert.deepEqual(decodePurgeAnswer(encodeJson({ url: 'u', removed: 2, nodes: 3 })), {
      url: 'u',
      removed: 2,
      nodes: 3,
    });
  });

  it('refuses payloads of the wrong shape, naming the field', () => {
    const head = { ...answer, body: undefined };
    rejectsWith(() => decodeAnswer(new Uint8Array([0, 0])), /cut short/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, status: 42 })), /status is not an HTTP status/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, result: 'MAYBE' })), /not an X-Cache value/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, ageSeconds: -1 })), /ageSeconds/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, bodyStream: 1.5 })), /bodyStream is not a u32/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, headers: { 'x-a': 'one\r\nset-cookie: b' } })), /x-a/);
    rejectsWith(() => decodeAnswer(answerFrame({ ...head, headers: { 'bad name': 'v' } })), /field name/);
    rejectsWith(() => decodeGetRequest(encodeJson({ url: 'u', headers: {}, hot: 'yes', standIn: false })), /hot/);
    rejectsWith(() => decodeGetRequest(encodeJson([1, 2])), /not an object/);
    rejectsWith(() => decodeGetRequest(Buffer.from('{')), /not JSON/);
    rejectsWith(() => decodePurgeRequest(encodeJson({ local: true })), /url is not a string/);
    rejectsWith(() => decodePurgeAnswer(encodeJson({ url: 'u', removed: 'all', nodes: 1 })), /removed/);
    rejectsWith(() => decodeReplica(answerFrame({ url: 'u', status: 200, headers: {} })), /freshness: not an object/);
  });
});
