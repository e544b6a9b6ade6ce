import { strict as assert } from 'node:assert';
import { MemoryBackend } from '../../src/kv/memory-backend.ts';
import type { MvccStore } from '../../src/kv/mvcc-store.ts';
import type { KeyValue } from '../../src/kv/types.ts';
import { DurableKv } from '../../src/storage/durable-kv.ts';
import type { LogState } from '../../src/storage/log-storage.ts';
import { SnapshotStore } from '../../src/storage/snapshot-store.ts';
import { Wal } from '../../src/storage/wal.ts';
import { KEY_COUNT, workloadEntry } from './workload.ts';

const everything = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) };
const decoder = new TextDecoder();

export interface Verified {
  readonly snapshotIndex: number;
  readonly lastIndex: number;
  readonly appliedBefore: number;
}

/**
 * Opens what a killed child left and checks it: the log continues from its
 * snapshot with every entry up to at least `ackedIndex`, in order, each
 * exactly as written; the store, once caught up from the log, equals both
 * the workload's expected state and a replay of snapshot + log into a fresh
 * store.
 */
export async function verifyDataDir(dataDir: string, ackedIndex: number): Promise<Verified> {
  const wal = await Wal.open({ dataDir });
  const log = wal.readAll();
  await wal.close();
  const snapshotIndex = log.snapshot?.index ?? 0;
  const lastIndex = log.entries.at(-1)?.index ?? snapshotIndex;
  assert.ok(lastIndex >= ackedIndex, `acknowledged entry ${ackedIndex} lost: the log ends at ${lastIndex}`);
  log.entries.forEach((entry, i) =>
    assert.deepEqual(entry, workloadEntry(snapshotIndex + 1 + i), `entry ${snapshotIndex + 1 + i}`),
  );

  const kv = await DurableKv.open({ dataDir });
  const appliedBefore = kv.appliedIndex;
  const snapshots = new SnapshotStore({ dataDir });
  if (kv.appliedIndex < snapshotIndex) await kv.installSnapshot(await snapshots.open(log.snapshot!));
  await kv.apply(log.entries);
  const durable = kv.store.range(everything);
  await kv.close();

  const replayed = await replay(snapshots, log.snapshot, log.entries);
  assert.deepEqual(durable, replayed.range(everything), 'the store equals a replay of snapshot + log');
  assert.deepEqual(
    durable.kvs.map(describe),
    expectedState(lastIndex),
    'the store holds the workload up to the last index',
  );
  return { snapshotIndex, lastIndex, appliedBefore };
}

/** Replays the snapshot file and the log into a fresh in-memory store, through the same install path. */
async function replay(
  snapshots: SnapshotStore,
  snapshot: LogState['snapshot'],
  entries: LogState['entries'],
): Promise<MvccStore> {
  const fresh = await DurableKv.open({ dataDir: 'in-memory', backend: new MemoryBackend() });
  if (snapshot !== undefined) await fresh.installSnapshot(await snapshots.open(snapshot));
  await fresh.apply(entries);
  return fresh.store;
}

function describe(kv: KeyValue): string {
  return `${decoder.decode(kv.key)}=${decoder.decode(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}`;
}

/** Entry i puts k<i mod 100> = v<i>, at revision i + 1 (a new store is at revision 1, as etcd's). */
function expectedState(lastIndex: number): string[] {
  const rows: { key: string; row: string }[] = [];
  for (let slot = 0; slot < KEY_COUNT && slot <= lastIndex; slot += 1) {
    const first = slot === 0 ? KEY_COUNT : slot;
    if (first > lastIndex) continue;
    const mod = lastIndex - ((lastIndex - slot) % KEY_COUNT);
    const version = Math.floor((mod - first) / KEY_COUNT) + 1;
    rows.push({ key: `k${slot}`, row: `k${slot}=v${mod} c${first + 1} m${mod + 1} v${version}` });
  }
  return rows.sort((a, b) => (a.key < b.key ? -1 : 1)).map((r) => r.row);
}
