import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { META_KEY } from './backend.ts';
import { decodeCommand, encodeCommand } from './command-codec.ts';
import type { Command, KvCommand } from './command.ts';
import { DEFAULT_KV_LIMITS } from './limits.ts';
import { MemoryBackend } from './memory-backend.ts';
import { MvccStore, type ApplyResult } from './mvcc-store.ts';

// Worked examples of etcd's semantics, the limits and the command encoding;
// the model test (mvcc-model.test.ts) covers the same ground at random.
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function applier(store = new MvccStore()): (command: Command, requestId?: number) => ApplyResult {
  let index = store.appliedIndex;
  return (command, requestId = 0) => {
    index += 1;
    const data = encodeCommand({ requestId, command });
    const [result] = store.applyEntries([{ term: 1, index, kind: 'normal', data }]).results;
    return result!;
  };
}

const errorCode = (result: ApplyResult): string | undefined =>
  result.outcome.status === 'error' ? result.outcome.error.code : undefined;

describe('MVCC store', () => {
  it('tracks revisions, create/mod revision and version as etcd does', () => {
    const store = new MvccStore();
    assert.equal(store.revision, 1, 'a new store is at revision 1, as etcd');
    const apply = applier(store);
    apply({ op: 'put', request: { key: text('k'), value: text('1') } });
    apply({ op: 'put', request: { key: text('k'), value: text('2'), lease: 7 } });
    const deleted = apply({ op: 'deleteRange', request: { key: text('k'), prevKv: true } });
    assert.deepEqual(deleted.events[0]?.type, 'delete');
    apply({ op: 'put', request: { key: text('k'), value: text('3') } });
    const [kv] = store.range({ key: text('k') }).kvs;
    assert.deepEqual([kv?.createRevision, kv?.modRevision, kv?.version, kv?.lease], [5, 5, 1, 0]);
    assert.deepEqual(store.range({ key: text('k'), revision: 3 }).kvs[0]?.lease, 7);
    assert.equal(store.range({ key: text('k'), revision: 1 }).kvs.length, 0, 'revision 1 is the empty store');
    assert.equal(store.revision, 5);
  });

  it('refuses a store written by a weft that numbered revisions from 0 (meta format 1)', async () => {
    // format 1, applied index 5, revision 3, compacted 0, next dedup seq 1
    const records = (async function* () {
      yield [META_KEY, new Uint8Array([1, 5, 3, 0, 1])] as const;
    })();
    await assert.rejects(
      MvccStore.restore(records),
      (e: unknown) => isWeftError(e, 'BACKEND_MISMATCH') && /older weft.*new data directory/.test(String(e)),
    );
  });

  it('restores from its records the same reads, with one key per history and values in shared buffers', async () => {
    const store = new MvccStore();
    const backend = new MemoryBackend();
    // More versions than one restore batch (1,024), and tombstones among them.
    for (let index = 1; index <= 2_500; index += 1) {
      const key = text(`key/${index % 40}`);
      const command: Command =
        index % 97 === 0
          ? { op: 'deleteRange', request: { key } }
          : { op: 'put', request: { key, value: text(`value ${index} `.repeat(1 + (index % 3))) } };
      const data = encodeCommand({ requestId: 0, command });
      await backend.write(store.applyEntries([{ term: 1, index, kind: 'normal', data }]).writes, { sync: false });
    }
    const restored = await MvccStore.restore(backend.records());
    const everything = (revision: number) => ({ key: text('\0'), rangeEnd: text('\0'), revision });
    const restoredKvs = [];
    for (let revision = 2; revision <= store.revision; revision += 37) {
      const [before, after] = [store.range(everything(revision)), restored.range(everything(revision))];
      assert.deepEqual(after, before, `revision ${revision}`);
      restoredKvs.push(...after.kvs);
    }
    assert.ok(restoredKvs.length > 2_000);
    assert.equal(new Set(restoredKvs.map((kv) => kv.key)).size, 40, 'every version of a key shares its key');
    const buffers = new Set(restoredKvs.map((kv) => kv.value.buffer)).size;
    assert.ok(buffers <= 10, `the values of ${restoredKvs.length} reads lie in ${buffers} buffers`);
  });

  it('a txn writes at one revision and reads its own writes', () => {
    const store = new MvccStore();
    const apply = applier(store);
    const result = apply({
      op: 'txn',
      request: {
        compare: [{ key: text('a'), target: 'version', result: 'equal', value: 0 }],
        success: [
          { type: 'put', request: { key: text('a'), value: text('x') } },
          { type: 'put', request: { key: text('b'), value: text('y') } },
          { type: 'range', request: { key: text('a'), rangeEnd: text('c') } },
        ],
        failure: [],
      },
    });
    assert.equal(result.revision, 2);
    assert.equal(result.events.length, 2);
    const response = result.outcome.status === 'ok' ? result.outcome.response : undefined;
    assert.ok(response?.type === 'txn' && response.response.succeeded);
    const read = response.response.responses[2];
    assert.ok(read?.type === 'range' && read.response.count === 2);
  });

  it('compaction makes older revisions unreadable with etcd messages', () => {
    const store = new MvccStore();
    const apply = applier(store);
    for (const value of ['1', '2', '3']) apply({ op: 'put', request: { key: text('k'), value: text(value) } });
    apply({ op: 'compact', request: { revision: 3 } });
    assert.throws(
      () => store.range({ key: text('k'), revision: 2 }),
      (e: unknown) => isWeftError(e, 'COMPACTED') && /mvcc: required revision has been compacted/.test(String(e)),
    );
    assert.throws(
      () => store.range({ key: text('k'), revision: 9 }),
      (e: unknown) => isWeftError(e, 'FUTURE_REV') && /mvcc: required revision is a future revision/.test(String(e)),
    );
    assert.deepEqual(store.range({ key: text('k'), revision: 3 }).kvs[0]?.value, text('2'));
    assert.equal(errorCode(apply({ op: 'compact', request: { revision: 3 } })), 'COMPACTED');
  });

  it('applies a retried request id once', () => {
    const store = new MvccStore();
    const apply = applier(store);
    const put: Command = { op: 'put', request: { key: text('k'), value: text('v') } };
    assert.equal(apply(put, 42).outcome.status, 'ok');
    assert.deepEqual(apply(put, 42).outcome, { status: 'duplicate', revision: 2 });
    assert.equal(store.range({ key: text('k') }).kvs[0]?.version, 1);
  });

  it('rejects requests over the limits with typed errors, deterministically at apply', () => {
    const apply = applier(new MvccStore({ ...DEFAULT_KV_LIMITS, maxKeyBytes: 4, maxValueBytes: 4, maxOpsPerTxn: 1 }));
    assert.equal(errorCode(apply({ op: 'put', request: { key: text('12345'), value: text('') } })), 'KEY_TOO_LARGE');
    assert.equal(errorCode(apply({ op: 'put', request: { key: text('k'), value: text('12345') } })), 'VALUE_TOO_LARGE');
    const two = [1, 2].map((i) => ({ type: 'put' as const, request: { key: text(`k${i}`), value: text('') } }));
    assert.equal(errorCode(apply({ op: 'txn', request: { compare: [], success: two, failure: [] } })), 'TOO_MANY_OPS');
    assert.equal(errorCode(apply({ op: 'put', request: { key: text(''), value: text('') } })), 'INVALID_REQUEST');
    const big = applier(new MvccStore({ ...DEFAULT_KV_LIMITS, maxRequestBytes: 10 }));
    assert.equal(
      errorCode(big({ op: 'put', request: { key: text('k'), value: text('0123456789') } })),
      'REQUEST_TOO_LARGE',
    );
  });

  it('encodes commands compactly with a leading format byte, and rejects unknown formats', () => {
    const command: KvCommand = {
      requestId: 300,
      command: { op: 'put', request: { key: text('k'), value: text('v') } },
    };
    const bytes = encodeCommand(command);
    assert.equal(bytes[0], 1);
    assert.ok(bytes.length <= 10, `${bytes.length} bytes`);
    assert.deepEqual(decodeCommand(bytes), command);
    bytes[0] = 9;
    assert.throws(
      () => decodeCommand(bytes),
      (e: unknown) => isWeftError(e, 'DECODE_FAILED') && /format 9/.test(String(e)),
    );
  });
});
