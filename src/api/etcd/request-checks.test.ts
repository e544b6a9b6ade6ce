// etcd's early request checks, in etcd's order, and the revision filters
// weft applies on top of a range.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import { DEFAULT_KV_LIMITS } from '../../kv/limits.ts';
import type { KeyValue, RequestOp, TxnRequest } from '../../kv/types.ts';
import { checkPeerUrls } from './cluster-server.ts';
import { filterRange } from './kv-server.ts';
import { checkNoLease, checkPut, checkTxn } from './request-checks.ts';

const key = new Uint8Array([107]);
const empty = new Uint8Array(0);
const put = (lease = 0): RequestOp => ({ type: 'put', request: { key, value: empty, lease } });
const code = (work: () => void): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    assert.ok(isWeftError(error));
    return error.code === 'INVALID_REQUEST' ? error.message : error.code;
  }
};

describe('etcd request checks', () => {
  it('a put with an empty key, a value with ignore_value, or a lease with ignore_lease fails as in etcd', () => {
    assert.equal(
      code(() => checkPut({ key: empty, value: empty })),
      'etcdserver: key is not provided',
    );
    assert.equal(
      code(() => checkPut({ key, value: key, ignoreValue: true })),
      'VALUE_PROVIDED',
    );
    assert.equal(
      code(() => checkPut({ key, value: empty, ignoreLease: true, lease: 5 })),
      'LEASE_PROVIDED',
    );
    assert.equal(
      code(() => checkPut({ key, value: key })),
      undefined,
    );
  });

  it('a put naming a lease fails with LEASE_NOT_FOUND, also deep in a txn branch', () => {
    assert.equal(
      code(() => checkNoLease(put(7))),
      'LEASE_NOT_FOUND',
    );
    const nested: RequestOp = { type: 'txn', request: { compare: [], success: [], failure: [put(7)] } };
    assert.equal(
      code(() => checkNoLease(nested)),
      'LEASE_NOT_FOUND',
    );
    assert.equal(
      code(() => checkNoLease(put(0))),
      undefined,
    );
  });

  it('too many ops is reported before an empty key, as etcd orders its checks', () => {
    const txn: TxnRequest = {
      compare: [{ key: empty, result: 'equal', target: 'version', value: 0 }],
      success: Array.from({ length: DEFAULT_KV_LIMITS.maxOpsPerTxn + 1 }, () => put()),
      failure: [],
    };
    assert.equal(
      code(() => checkTxn(txn, DEFAULT_KV_LIMITS)),
      'TOO_MANY_OPS',
    );
    assert.equal(
      code(() => checkTxn({ ...txn, success: [] }, DEFAULT_KV_LIMITS)),
      'etcdserver: key is not provided',
    );
  });

  it('a nested txn may use only the ops its parent left over', () => {
    const limits = { ...DEFAULT_KV_LIMITS, maxOpsPerTxn: 4 };
    const inner: RequestOp = { type: 'txn', request: { compare: [], success: [put(), put()], failure: [] } };
    assert.equal(
      code(() => checkTxn({ compare: [], success: [inner, put()], failure: [] }, limits)),
      undefined,
    );
    assert.equal(
      code(() => checkTxn({ compare: [], success: [inner, put(), put()], failure: [] }, limits)),
      'TOO_MANY_OPS',
    );
  });
});

describe('member peer URLs', () => {
  it('must each be http(s)://host:port, as etcd requires', () => {
    assert.deepEqual(checkPeerUrls(['http://10.0.0.2:2380', 'https://h:1']), ['http://10.0.0.2:2380', 'https://h:1']);
    for (const bad of [[], ['not-a-url'], ['http://h'], ['ftp://h:1'], ['http://h:1/path']]) {
      assert.equal(
        code(() => checkPeerUrls(bad)),
        'etcdserver: given member URLs are invalid',
        JSON.stringify(bad),
      );
    }
  });
});

describe('revision filters', () => {
  const kv = (name: string, createRevision: number, modRevision: number): KeyValue => ({
    key: new TextEncoder().encode(name),
    createRevision,
    modRevision,
    version: 1,
    value: empty,
    lease: 0,
  });
  const kvs = [kv('a', 1, 5), kv('b', 2, 2), kv('c', 3, 8), kv('d', 4, 6)];

  it('keep the kvs within every bound, cut to the limit after filtering; count stays unfiltered', () => {
    const filters = { minModRevision: 5, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 3 };
    const filtered = filterRange({ kvs, more: false, count: 4 }, filters, 1);
    assert.deepEqual(
      filtered.kvs.map((k) => new TextDecoder().decode(k.key)),
      ['a'],
    );
    assert.equal(filtered.more, true);
    assert.equal(filtered.count, 4);
    const all = filterRange({ kvs, more: false, count: 4 }, filters, 0);
    assert.deepEqual(
      all.kvs.map((k) => new TextDecoder().decode(k.key)),
      ['a', 'c'],
    );
    assert.equal(all.more, false);
  });
});
