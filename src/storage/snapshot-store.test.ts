import { strict as assert } from 'node:assert';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { SnapshotStore } from './snapshot-store.ts';
import { withTempDir } from './test-helpers.ts';

// Snapshot files: streamed in bounded chunks, verified, pruned; a truncated
// or damaged file is refused with SNAPSHOT_CORRUPT naming it.
const conf = { voters: ['n1', 'n2'], learners: ['n3'] };

async function save(store: SnapshotStore, index: number, data: Uint8Array): Promise<void> {
  const writer = await store.create({ index, term: 2, conf });
  for (let offset = 0; offset < data.length; offset += 1000) await writer.write(data.subarray(offset, offset + 1000));
  await writer.commit();
}

async function readAll(store: SnapshotStore, index: number): Promise<{ bytes: Uint8Array; largestChunk: number }> {
  const reader = await store.open({ index, term: 2 });
  const parts: Uint8Array[] = [];
  for await (const chunk of reader.chunks()) parts.push(chunk);
  return { bytes: Buffer.concat(parts), largestChunk: Math.max(...parts.map((p) => p.length)) };
}

const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 7) % 251);

describe('snapshot store', () => {
  it('round-trips data in chunks no larger than chunkBytes, with its metadata', () =>
    withTempDir(async (dir) => {
      const store = new SnapshotStore({ dataDir: dir, chunkBytes: 4096 });
      await save(store, 10, data);
      const { bytes, largestChunk } = await readAll(store, 10);
      assert.deepEqual(new Uint8Array(bytes), data);
      assert.equal(largestChunk, 4096);
      assert.deepEqual((await store.open({ index: 10, term: 2 })).meta, { index: 10, term: 2, conf });
    }));

  it('keeps the newest N snapshots', () =>
    withTempDir(async (dir) => {
      const store = new SnapshotStore({ dataDir: dir, keep: 2 });
      for (const index of [5, 10, 15]) await save(store, index, data.subarray(0, 10));
      assert.deepEqual(
        (await store.list()).map((s) => s.index),
        [15, 10],
      );
    }));

  it('refuses a truncated snapshot when it is opened, naming the file and sizes', () =>
    withTempDir(async (dir) => {
      const store = new SnapshotStore({ dataDir: dir });
      await save(store, 10, data);
      const path = store.path({ index: 10, term: 2 });
      await truncate(path, (await stat(path)).size - 500);
      await assert.rejects(store.open({ index: 10, term: 2 }), (e: unknown) => {
        assert.ok(isWeftError(e, 'SNAPSHOT_CORRUPT'));
        assert.match(
          e.message,
          new RegExp(`snapshot ${path} is damaged \\(truncated or extended: \\d+ bytes on disk, \\d+ expected\\)`),
        );
        return true;
      });
    }));

  it('detects a flipped byte by its checksum after the last chunk', () =>
    withTempDir(async (dir) => {
      const store = new SnapshotStore({ dataDir: dir });
      await save(store, 10, data);
      const path = store.path({ index: 10, term: 2 });
      const bytes = await readFile(path);
      bytes[5000] = bytes[5000]! ^ 1;
      await writeFile(path, bytes);
      await assert.rejects(
        readAll(store, 10),
        (e: unknown) => isWeftError(e, 'SNAPSHOT_CORRUPT') && /checksum mismatch/.test(String(e)),
      );
    }));

  it('reports a missing snapshot with SNAPSHOT_MISSING', () =>
    withTempDir(async (dir) => {
      await assert.rejects(new SnapshotStore({ dataDir: dir }).open({ index: 1, term: 1 }), (e: unknown) =>
        isWeftError(e, 'SNAPSHOT_MISSING'),
      );
    }));
});
