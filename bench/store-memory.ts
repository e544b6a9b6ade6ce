// What one version of a key costs the MVCC store in memory: the bench
// failover workload's keys (800 of them) and 256-byte values, written
// through the store as a node applies them (live) and then restored from
// LevelDB as a restarted node does. Every version stays: nothing compacts,
// as in the benches. Run it from two checkouts in turn to compare a change.
// With --values-on-disk the store lets superseded values go once written, as
// a node's store does (DurableKv); without it, it keeps them all.
//   node --expose-gc --import tsx bench/store-memory.ts [--checkout .] [--versions 50000] [--values-on-disk]
// Last line: live_heap_bytes_per_version=… live_buffer_bytes_per_version=… restored_heap_bytes_per_version=… restored_buffer_bytes_per_version=… restore_ms=…
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { packCopies as PackCopies } from '../src/core/binary.ts';
import type { encodeCommand as EncodeCommand } from '../src/kv/command-codec.ts';
import type { MvccStore as Store } from '../src/kv/mvcc-store.ts';
import type { LevelBackend as Backend } from '../src/storage/level-backend.ts';
import { positive } from './cpu-load.ts';

const { values } = parseArgs({
  options: {
    checkout: { type: 'string', default: '.' },
    versions: { type: 'string', default: '50000' },
    'values-on-disk': { type: 'boolean', default: false },
  },
});
const versions = positive(values.versions, 'versions');
const storeOptions = { valuesOnDisk: values['values-on-disk'] };
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const from = (path: string): Promise<unknown> => import(resolve(values.checkout, path));
const { MvccStore } = (await from('src/kv/mvcc-store.ts')) as { MvccStore: typeof Store };
const { encodeCommand } = (await from('src/kv/command-codec.ts')) as { encodeCommand: typeof EncodeCommand };
const { packCopies } = (await from('src/core/binary.ts')) as { packCopies: typeof PackCopies };
const { LevelBackend } = (await from('src/storage/level-backend.ts')) as { LevelBackend: typeof Backend };

/** Heap and ArrayBuffer bytes that `build`'s result keeps, per version. */
async function perVersion<T>(build: () => Promise<T>): Promise<{ heap: number; buffers: number; kept: T }> {
  gc!();
  gc!();
  const before = process.memoryUsage();
  const kept = await build();
  gc!();
  gc!();
  const after = process.memoryUsage();
  return {
    heap: (after.heapUsed - before.heapUsed) / versions,
    buffers: (after.arrayBuffers - before.arrayBuffers) / versions,
    kept,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'weft-store-memory-'));
const backend = await LevelBackend.open(dir);
try {
  const value = new Uint8Array(256).fill(97);
  const encoder = new TextEncoder();
  // Entries come as a node's log holds them: 50 to a shared buffer, as one append carries them.
  const live = await perVersion(async () => {
    const store = new MvccStore(undefined, storeOptions);
    for (let first = 1; first <= versions; first += 50) {
      const count = Math.min(50, versions - first + 1);
      const commands = Array.from({ length: count }, (_, i) => {
        const n = first + i;
        const key = encoder.encode(`failover-load/${n % 8}/${n % 100}`);
        return encodeCommand({ requestId: n, command: { op: 'put', request: { key, value } } });
      });
      const entries = packCopies(commands).map((data, i) => ({
        term: 1,
        index: first + i,
        kind: 'normal' as const,
        data,
      }));
      await backend.write(store.applyEntries(entries).writes, { sync: false });
      store.releaseWrittenThrough(store.revision);
    }
    return store;
  });
  let restoreMs = 0;
  const restored = await perVersion(async () => {
    const started = performance.now();
    const store = await MvccStore.restore(backend.records(), undefined, storeOptions);
    restoreMs = performance.now() - started;
    return store;
  });
  if (restored.kept.revision !== live.kept.revision) throw new Error('the restored store is not the live one');
  console.log(
    `live_heap_bytes_per_version=${live.heap.toFixed(0)} live_buffer_bytes_per_version=${live.buffers.toFixed(0)} ` +
      `restored_heap_bytes_per_version=${restored.heap.toFixed(0)} restored_buffer_bytes_per_version=${restored.buffers.toFixed(0)} ` +
      `restore_ms=${restoreMs.toFixed(0)}`,
  );
} finally {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
}
