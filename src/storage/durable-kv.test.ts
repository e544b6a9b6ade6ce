import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { encodeCommand } from '../kv/command-codec.ts';
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

describe('DurableKv', () => {
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
      assert.equal(reopened.store.revision, 12);
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
