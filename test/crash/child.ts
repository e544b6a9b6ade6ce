// The crash test's writer process: appends workload entries to the WAL as
// fast as it can in batches of 1 to 32, reports each acknowledged (durable)
// index on stdout as "ack <index>", applies the batch to the store, and now
// and then takes a snapshot and releases old segments. The parent SIGKILLs it.
//   node --import tsx test/crash/child.ts <data-dir> <seed>
import { createPrng } from '../../src/core/prng.ts';
import { DurableKv } from '../../src/storage/durable-kv.ts';
import { SnapshotStore } from '../../src/storage/snapshot-store.ts';
import { Wal } from '../../src/storage/wal.ts';
import { workloadEntry } from './workload.ts';

const [dataDir, seedText] = process.argv.slice(2);
if (dataDir === undefined || seedText === undefined) throw new Error('usage: child.ts <data-dir> <seed>');
const prng = createPrng(Number(seedText));
const snapshotEveryEntries = 300;
const conf = { voters: ['n1'], learners: [] };

const wal = await Wal.open({ dataDir, segmentSizeBytes: 32 * 1024 });
const kv = await DurableKv.open({ dataDir });
const snapshots = new SnapshotStore({ dataDir });
let last = wal.readAll().entries.at(-1)?.index ?? wal.readAll().snapshot?.index ?? 0;
process.stdout.write(`ready ${last}\n`);

for (;;) {
  const entries = Array.from({ length: prng.int(1, 32) }, (_, i) => workloadEntry(last + 1 + i));
  last += entries.length;
  await wal.append({ entries, hardState: { term: 1, vote: 'n1', commit: last } });
  process.stdout.write(`ack ${last}\n`);
  await kv.apply(entries);
  if (Math.floor(last / snapshotEveryEntries) > Math.floor((last - entries.length) / snapshotEveryEntries)) {
    await kv.sync();
    const meta = await kv.saveSnapshot(snapshots, conf, 1);
    await wal.saveSnapshotMarker(meta);
    await wal.releaseBefore(meta.index + 1);
  }
}
