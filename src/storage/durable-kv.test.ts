import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { BackendBatch, KvBackend } from '../kv/backend.ts';
import { encodeCommand } from '../kv/command-codec.ts';
import { MemoryBackend } from '../kv/memory-backend.ts';
import type { Entry } from '../raft/types.ts';
import { DurableKv } from './durable-kv.ts';
import { SnapshotStore } from './snapshot-store.ts';
import { withTempDir } from './test-helpers.ts';

// The MVCC store on LevelDB: one atomic write per batch with the applied
// index, resume after reopen, and snapshots that rebuild an identical store.
const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const everything = { key: text('\0'), rangeEnd: text('\0') };

function puts(from: number, to: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({
    term: 1,
    index: from + i,
    kind: 'normal' as const,
    data: encodeCommand({
      requestId: 0,
      command: { op: 'put', request: { key: text(`k${(from + i) % 7}`), value: text(`v${from + i}`) } },
    }),
  }));
}

/** A MemoryBackend that counts its writes and can be made to fail them. */
class WatchedBackend implements KvBackend {
  readonly inner = new MemoryBackend();
  writes = 0;
  failing = false;
  records(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.inner.records();
  }
  async write(batch: BackendBatch, options: { readonly sync: boolean }): Promise<void> {
    if (this.failing) throw new Error('EIO: the disk is gone');
    this.writes += 1;
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
      assert.deepEqual(target.store.range(everything), source.store.range(everything));
      assert.deepEqual(
        target.store.range({ ...everything, revision: 250 }),
        source.store.range({ ...everything, revision: 250 }),
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
