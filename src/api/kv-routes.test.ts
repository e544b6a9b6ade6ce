// The KV JSON API through inject(): every route, every kind of bad input
// (each a clear 4xx that changes nothing stored), and availability errors
// as 503 with Retry-After. The store behind it is the real MvccStore.
import { strict as assert } from 'node:assert';
import { beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { NotLeaderError } from '../core/errors.ts';
import { hexId, memberIdOf } from '../core/ids.ts';
import type { KvService, ReadOptions } from '../node/kv-service.ts';
import { createNodeMetrics } from '../node/metrics.ts';
import { buildHttpApp } from './http-app.ts';
import { SingleNodeKv } from './testing/single-node-kv.ts';

let kv: SingleNodeKv;
let reads: ReadOptions[];

function app() {
  const recording: KvService = {
    range: (request, options = {}) => {
      reads.push(options);
      return kv.range(request, options);
    },
    put: (request, options) => kv.put(request, options),
    deleteRange: (request, options) => kv.deleteRange(request, options),
    txn: (request, options) => kv.txn(request, options),
    compact: (request, options) => kv.compact(request, options),
  };
  return buildHttpApp({
    health: () => ({ status: 'ok', id: 'n1', version: '0.1.0', pid: 1, uptimeSeconds: 0, peers: [], kv: null }),
    unhealthyReason: () => undefined,
    notReadyReason: () => undefined,
    metrics: createNodeMetrics('n1', '0.1.0'),
    log: pino({ level: 'silent' }),
    kv: { kv: recording, cluster: kv },
  });
}

beforeEach(() => {
  kv = new SingleNodeKv();
  reads = [];
});

async function put(url: string, payload: string | Buffer, contentType = 'text/plain') {
  return app().inject({ method: 'PUT', url, payload, headers: { 'content-type': contentType } });
}

/** Asserts a JSON error with that status and code, and returns its message. */
function expectError(response: { statusCode: number; json: () => unknown }, status: number, code: string): string {
  const body = response.json() as { error?: { code: string; message: string } };
  assert.equal(response.statusCode, status, JSON.stringify(body));
  assert.equal(body.error?.code, code);
  assert.ok(body.error.message.length > 10, 'the message says something');
  return body.error.message;
}

describe('/v1/kv', () => {
  it('PUT a raw body, then GET the key with its revisions', async () => {
    // A new store is at revision 1, as etcd's: its first write is revision 2.
    assert.deepEqual((await put('/v1/kv/greeting', 'hello')).json(), { revision: 2 });
    const response = await app().inject({ url: '/v1/kv/greeting' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      revision: 2,
      kv: { key: 'greeting', value: 'hello', createRevision: 2, modRevision: 2, version: 1, lease: 0 },
    });
  });

  it('PUT a JSON body {"value"}, with prevKv', async () => {
    await put('/v1/kv/k', JSON.stringify({ value: 'one' }), 'application/json');
    const response = await put('/v1/kv/k?prevKv=true', JSON.stringify({ value: 'two' }), 'application/json');
    assert.equal(response.json().revision, 3);
    assert.equal(response.json().prevKv.value, 'one');
    assert.equal((await app().inject({ url: '/v1/kv/k' })).json().kv.value, 'two');
  });

  it('keys may hold slashes, spaces and any UTF-8 text, %-escaped', async () => {
    await put('/v1/kv/a%2Fb%20c/%C3%A9', 'x');
    const [stored] = kv.store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }).kvs;
    assert.equal(Buffer.from(stored!.key).toString(), 'a/b c/é');
    assert.equal((await app().inject({ url: '/v1/kv/a%2Fb%20c/%C3%A9' })).json().kv.key, 'a/b c/é');
  });

  it('GET of a missing key is 404 KEY_NOT_FOUND', async () => {
    expectError(await app().inject({ url: '/v1/kv/nothing' }), 404, 'KEY_NOT_FOUND');
  });

  it('DELETE one key or a prefix says how many went', async () => {
    for (const key of ['t/a', 't/b', 'u']) await put(`/v1/kv/${key}`, 'v');
    assert.deepEqual((await app().inject({ method: 'DELETE', url: '/v1/kv/u' })).json(), { revision: 5, deleted: 1 });
    const prefix = await app().inject({ method: 'DELETE', url: '/v1/kv/t/?prefix=true' });
    assert.deepEqual(prefix.json(), { revision: 6, deleted: 2 });
  });

  it('GET /v1/kv lists a prefix with limit and revision, or every key', async () => {
    for (const [key, value] of [
      ['fruit/apple', '1'],
      ['fruit/banana', '2'],
      ['fruits', '3'],
    ])
      await put(`/v1/kv/${key}`, value!);
    await put('/v1/kv/fruit/apple', 'changed');
    const listed = (await app().inject({ url: '/v1/kv?prefix=fruit/&limit=1' })).json();
    assert.deepEqual(
      [listed.kvs.map((kv: { key: string }) => kv.key), listed.more, listed.count],
      [['fruit/apple'], true, 2],
    );
    const old = (await app().inject({ url: '/v1/kv?prefix=fruit%2F&revision=2' })).json();
    assert.deepEqual(
      old.kvs.map((kv: { value: string }) => kv.value),
      ['1'],
    );
    const all = (await app().inject({ url: '/v1/kv' })).json();
    assert.deepEqual(
      all.kvs.map((kv: { key: string }) => kv.key),
      ['fruit/apple', 'fruit/banana', 'fruits'],
    );
  });

  it('consistency=serializable|linearizable reaches the service (linearizable by default)', async () => {
    await app().inject({ url: '/v1/kv?consistency=serializable' });
    await app().inject({ url: '/v1/kv/x' });
    assert.deepEqual(
      reads.map((options) => options.consistency),
      ['serializable', 'linearizable'],
    );
    expectError(await app().inject({ url: '/v1/kv?consistency=eventual' }), 400, 'INVALID_REQUEST');
  });

  it('?encoding=base64 carries binary keys and values; text reads of them are refused', async () => {
    const key = Buffer.from([0xff, 0x00, 0x41]).toString('base64url');
    const value = Buffer.from([0xc3, 0x28]).toString('base64');
    assert.equal((await put(`/v1/kv/${key}?encoding=base64`, value)).statusCode, 200);
    const read = (await app().inject({ url: `/v1/kv/${key}?encoding=base64` })).json();
    assert.deepEqual([read.kv.key, read.kv.value], [Buffer.from([0xff, 0x00, 0x41]).toString('base64'), value]);
    const message = expectError(await app().inject({ url: '/v1/kv' }), 400, 'INVALID_REQUEST');
    assert.match(message, /not valid UTF-8 text; read it with \?encoding=base64/);
  });
});

describe('bad input is a clear 4xx and changes nothing', () => {
  const cases: [string, () => Promise<{ statusCode: number; json: () => unknown }>, number, string][] = [
    ['malformed JSON', () => put('/v1/kv/k', '{"value": ', 'application/json'), 400, 'INVALID_REQUEST'],
    ['JSON without a string value', () => put('/v1/kv/k', '{"value": 3}', 'application/json'), 400, 'INVALID_REQUEST'],
    ['invalid UTF-8 in a raw body', () => put('/v1/kv/k', Buffer.from([0xc3, 0x28])), 400, 'INVALID_REQUEST'],
    ['invalid UTF-8 in the path', () => app().inject({ url: '/v1/kv/%FF' }), 400, 'INVALID_REQUEST'],
    ['invalid UTF-8 in a query', () => app().inject({ url: '/v1/kv?prefix=%FF' }), 400, 'INVALID_REQUEST'],
    ['a malformed escape', () => app().inject({ url: '/v1/kv?prefix=%G1' }), 400, 'INVALID_REQUEST'],
    ['bad base64', () => put('/v1/kv/k?encoding=base64', 'not base64!'), 400, 'INVALID_REQUEST'],
    ['an unknown parameter', () => app().inject({ url: '/v1/kv/k?revison=3' }), 400, 'INVALID_REQUEST'],
    ['a negative limit', () => app().inject({ url: '/v1/kv?limit=-1' }), 400, 'INVALID_REQUEST'],
    ['no key in the path', () => put('/v1/kv/', 'v'), 400, 'INVALID_REQUEST'],
    ['an oversized key', () => put(`/v1/kv/${'k'.repeat(4097)}`, 'v'), 400, 'KEY_TOO_LARGE'],
    ['an oversized value', () => put('/v1/kv/k', 'v'.repeat(1024 * 1024 + 1)), 413, 'VALUE_TOO_LARGE'],
    ['an oversized body', () => put('/v1/kv/k', 'v'.repeat(3 * 1024 * 1024 + 1)), 413, 'REQUEST_TOO_LARGE'],
    ['a future revision', () => app().inject({ url: '/v1/kv/k?revision=99' }), 400, 'FUTURE_REV'],
    ['an unknown route', () => app().inject({ url: '/v1/nope' }), 404, 'NOT_FOUND'],
  ];
  for (const [what, send, status, code] of cases) {
    it(`${what}: ${status} ${code}`, async () => {
      await put('/v1/kv/k', 'original');
      expectError(await send(), status, code);
      assert.equal(kv.store.revision, 2, 'nothing was written');
      assert.equal((await app().inject({ url: '/v1/kv/k' })).json().kv.value, 'original');
    });
  }

  it('a compacted revision is 410 COMPACTED', async () => {
    for (const value of ['1', '2', '3']) await put('/v1/kv/k', value);
    await kv.compact({ revision: 2 });
    expectError(await app().inject({ url: '/v1/kv/k?revision=1' }), 410, 'COMPACTED');
  });
});

describe('availability errors', () => {
  it('are 503 with a Retry-After hint, for reads and writes', async () => {
    kv.failWith = new NotLeaderError('');
    for (const response of [
      await app().inject({ url: '/v1/kv/k' }),
      await put('/v1/kv/k', 'v'),
      await app().inject({ url: '/write?key=k&value=v' }),
    ]) {
      expectError(response, 503, 'NOT_LEADER');
      assert.equal(response.headers['retry-after'], '1');
    }
    kv.failWith = undefined;
    assert.equal(kv.store.revision, 1);
  });
});

describe('/v1/cluster', () => {
  it('shows the members, the leader, term, indexes and the successor ranking', async () => {
    await put('/v1/kv/k', 'v');
    const view = (await app().inject({ url: '/v1/cluster' })).json();
    const id = hexId(memberIdOf('n1'));
    assert.deepEqual(
      [
        view.memberId,
        view.leader,
        view.term,
        view.commitIndex,
        view.appliedIndex,
        view.revision,
        view.successorRanking,
      ],
      [id, id, 1, 1, 1, 2, null],
    );
    assert.deepEqual(view.members, [
      {
        id,
        name: 'n1',
        peerUrls: ['http://127.0.0.1:2380'],
        clientUrls: [],
        isLearner: false,
        isLeader: true,
        started: true,
      },
    ]);
  });
});

describe('Lab 9 routes', () => {
  it('/write stores and answers {"status":"written"}; /read answers the item, {} when absent', async () => {
    const written = await app().inject({ url: '/write?key=foo&value=bar+baz%21' });
    assert.equal(written.statusCode, 200);
    assert.deepEqual(written.json(), { status: 'written' });
    assert.deepEqual((await app().inject({ url: '/read?key=foo' })).json(), {
      key: 'foo',
      value: 'bar baz!',
      createRevision: 2,
      modRevision: 2,
      version: 1,
      lease: 0,
    });
    assert.deepEqual((await app().inject({ url: '/read?key=missing' })).json(), {});
  });

  it('a missing or empty key is 400', async () => {
    expectError(await app().inject({ url: '/read' }), 400, 'INVALID_REQUEST');
    expectError(await app().inject({ url: '/write?key=&value=v' }), 400, 'INVALID_REQUEST');
    expectError(await app().inject({ url: '/write?key=k' }), 400, 'INVALID_REQUEST');
    assert.equal(kv.store.revision, 1);
  });
});
