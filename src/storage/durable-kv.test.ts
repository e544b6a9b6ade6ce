import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { BackendBatch, KvBackend } from '../kv/backend.ts';
import { encodeCommand } from '../kv/command-codec.ts';
import type { Command } from '../kv/command.ts';
import { MemoryBackend } from '../kv/memory-backend.ts';
import type { Entry } from '../raft/types.ts';
import { DurableKv } from './durable-kv.ts';
import { SnapshotStore } from './snapshot-store.ts';
import { withTempDir } from './test-helpers.ts';

// The MVCC store on LevelDB: one atomic write per batch with the applied
// index, resume after reopen, and snapshots that rebuild an identical store.
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const everything = { key: text('\0'), rangeEnd: text('\0') };

function entry(index: number, command: Command): Entry {
  return { term: 1, index, kind: 'normal', data: encodeCommand({ requestId: 0, command }) };
}

function put(key: string, value: string): Command {
  return { op: 'put', request: { key: text(key), value: text(value) } };
}

function puts(from: number, to: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, put(`k${(from + i) % 7}`, `v${from + i}`)));
}

/** A MemoryBackend that counts its writes and reads, can be made to fail writes, and can hold them. */
class WatchedBackend implements KvBackend {
  readonly inner = new MemoryBackend();
  writes = 0;
  recordsRead = 0;
  failing = false;
  /** While set, writes wait for it. */
  held: Promise<void> | undefined;
  records(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.inner.records();
  }
  read(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.recordsRead += keys.length;
    return this.inner.read(keys);
  }
  async write(batch: BackendBatch, options: { readonly sync: boolean }): Promise<void> {
    if (this.failing) throw new Error('EIO: the disk is gone');
    this.writes += 1;
    await this.held;
    await this.inner.write(batch, options);
  }
  replaceAll(records: AsyncIterable<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    return this.inner.replaceAll(records);
  }
  async close(): Promise<void> {}
}

describe('DurableKv', () => {
  it('writes the applies of many calls to the backend as one write, in order, and syncs them all', async () => {
    const backend = new WatchedBackend();
    // No timer flush during the test: what is written, and when, depends on the calls alone.
    const kv = await DurableKv.open({ dataDir: 'unused', backend, writeBehindMs: 3_600_000 });
    for (let i = 1; i <= 20; i += 1) await kv.apply(puts(i, i));
    assert.equal(backend.writes, 0, 'applies answer from memory; their writes wait');
    await kv.sync();
    assert.equal(backend.writes, 2, 'one write for the 20 applies, one to sync');
    const restored = await DurableKv.open({ dataDir: 'unused', backend: backend.inner });
    assert.equal(restored.appliedIndex, 20);
    assert.deepEqual(restored.store.range(everything), kv.store.range(everything));
  });

  it('lets a superseded value go only once its record is written, and reads it back from there', async () => {
    const backend = new WatchedBackend();
    const kv = await DurableKv.open({ dataDir: 'unused', backend, writeBehindMs: 3_600_000 });
    try {
      const valueAt = async (revision: number): Promise<string> =>
        new TextDecoder().decode((await kv.range({ key: text('k'), revision })).response.kvs[0]?.value);
      await kv.apply([entry(1, put('k', 'a'))]); // revision 2
      let release = (): void => undefined;
      backend.held = new Promise((resolve) => (release = resolve));
      const writing = kv.sync(); // the write of revision 2, held
      await kv.apply([entry(2, put('k', 'b'))]); // revision 3: supersedes 'a'
      await kv.apply([entry(3, put('k', 'c'))]); // revision 4: supersedes 'b', whose record is not even on its way
      release();
      backend.held = undefined;
      await writing;
      assert.deepEqual([await valueAt(2), await valueAt(3)], ['a', 'b']);
      assert.equal(backend.recordsRead, 0, 'both from memory: what superseded them is not written yet');
      await kv.sync();
      assert.deepEqual([await valueAt(2), await valueAt(3), await valueAt(4)], ['a', 'b', 'c']);
      assert.equal(backend.recordsRead, 2, "'a' and 'b' from the backend; the latest value stays in memory");
    } finally {
      await kv.close(); // a failed assertion too: the write-behind timer would keep the test alive
    }
  });

  it('applies a batch whose txn reads released values in order, the entries after it too', async () => {
    const backend = new WatchedBackend();
    const kv = await DurableKv.open({ dataDir: 'unused', backend, writeBehindMs: 3_600_000 });
    try {
      await kv.apply([entry(1, put('k', 'a')), entry(2, put('k', 'b'))]); // revisions 2, 3
      await kv.sync();
      await kv.sync(); // the second write lets 'a' go (what superseded it is written now)
      const readOld: Command = {
        op: 'txn',
        request: {
          compare: [],
          success: [{ type: 'range', request: { key: text('k'), revision: 2 } }],
          failure: [],
        },
      };
      const results = await kv.apply([entry(3, put('k', 'c')), entry(4, readOld), entry(5, put('k', 'd'))]);
      assert.equal(backend.recordsRead, 1, "the txn's range read 'a' back");
      assert.deepEqual(
        results.map((result) => [result.index, result.revision]),
        [
          [3, 4],
          [4, 4],
          [5, 5],
        ],
      );
      const outcome = results[1]!.outcome;
      assert.ok(outcome.status === 'ok' && outcome.response.type === 'txn');
      const [op] = outcome.response.response.responses;
      assert.ok(op?.type === 'range');
      assert.equal(new TextDecoder().decode(op.response.kvs[0]?.value), 'a');
      assert.equal(kv.appliedIndex, 5);
    } finally {
      await kv.close();
    }
  });

  it('after a failed backend write, every later apply and sync fails with its error', async () => {
    const backend = new WatchedBackend();
    const kv = await DurableKv.open({ dataDir: 'unused', backend });
    await kv.apply(puts(1, 1));
    backend.failing = true;
    await assert.rejects(kv.sync(), /EIO/);
    backend.failing = false;
    await assert.rejects(kv.apply(puts(2, 2)), /EIO/);
    await assert.rejects(kv.sync(), /EIO/);
    assert.equal(kv.appliedIndex, 1, 'nothing applied after the failure');
  });

  it('resumes after reopening exactly after the last applied batch, skipping entries already applied', () =>
    withTempDir(async (dir) => {
      const kv = await DurableKv.open({ dataDir: dir });
      assert.equal((await kv.apply(puts(1, 10))).length, 10);
      const before = kv.store.range(everything);
      await kv.close();
      const reopened = await DurableKv.open({ dataDir: dir });
      assert.equal(reopened.appliedIndex, 10);
      assert.deepEqual(reopened.store.range(everything), before);
      assert.equal((await reopened.apply(puts(5, 12))).length, 2);
      assert.equal(reopened.store.revision, 13, 'revision 1 (the empty store) and 12 puts');
      await reopened.close();
    }));

  it('a snapshot installed elsewhere rebuilds an identical store', () =>
    withTempDir(async (dir) => {
      const source = await DurableKv.open({ dataDir: `${dir}/a` });
      await source.apply(puts(1, 500));
      const snapshots = new SnapshotStore({ dataDir: `${dir}/a`, chunkBytes: 1000 });
      const meta = await source.saveSnapshot(snapshots, { voters: ['n1'], learners: [] }, 3);
      assert.deepEqual([meta.index, meta.term], [500, 3]);
      const target = await DurableKv.open({ dataDir: `${dir}/b` });
      await target.apply(puts(1, 3));
      await target.installSnapshot(await snapshots.open(meta));
      assert.equal(target.appliedIndex, 500);
      assert.deepEqual(await target.range(everything), await source.range(everything));
      assert.deepEqual(
        await target.range({ ...everything, revision: 250 }),
        await source.range({ ...everything, revision: 250 }),
      );
      await source.close();
      await target.close();
    }));

  it('a snapshot holds the store as of the call, while applies go on', () =>
    withTempDir(async (dir) => {
      const source = await DurableKv.open({ dataDir: `${dir}/a` });
      await source.apply(puts(1, 300));
      const atCall = source.store.range(everything);
      const snapshots = new SnapshotStore({ dataDir: `${dir}/a`, chunkBytes: 1000 });
      const saving = source.saveSnapshot(snapshots, { voters: ['n1'], learners: [] }, 2);
      await source.apply(puts(301, 400));
      const meta = await saving;
      assert.equal(meta.index, 300);
      const target = await DurableKv.open({ dataDir: `${dir}/b` });
      await target.installSnapshot(await snapshots.open(meta));
      assert.equal(target.appliedIndex, 300);
      assert.deepEqual(target.store.range(everything), atCall);
      await source.close();
      await target.close();
    }));
});
