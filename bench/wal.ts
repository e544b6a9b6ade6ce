// WAL benchmark: appends of 256-byte entries with fdatasync at batch sizes
// 1, 16 and 256, next to the raw rate of write + fdatasync on the same
// directory, measured in the same run. The disk is shared and its rate
// drifts, so the four measurements are interleaved in short rounds and each
// figure is the median over the rounds (a ratio is taken within a round).
//   npm run bench:wal -- [--rounds R] [--seconds S] [--dir DIR]
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry } from '../src/raft/types.ts';
import { Wal } from '../src/storage/wal.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '0.5' },
    dir: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const ENTRY_BYTES = 256;

/** Plain write + fdatasync of one entry-sized record per sync, with synchronous calls (no thread-pool hop). */
function rawSyncCallsPerSecond(dir: string): number {
  const fd = openSync(join(dir, 'raw.bin'), 'w');
  const started = performance.now();
  const record = new Uint8Array(ENTRY_BYTES + 9 + 4).fill(7);
  const deadline = performance.now() + seconds * 1000;
  let syncs = 0;
  let position = 0;
  while (performance.now() < deadline) {
    writeSync(fd, record, 0, record.length, position);
    fdatasyncSync(fd);
    position += record.length;
    syncs += 1;
  }
  closeSync(fd);
  return syncs / ((performance.now() - started) / 1000);
}

/** The same with the promise API (what the WAL uses): on this VM it often measures faster than the sync calls. */
async function rawPromiseCallsPerSecond(dir: string): Promise<number> {
  const handle = await open(join(dir, 'raw-async.bin'), 'w');
  const record = new Uint8Array(ENTRY_BYTES + 9 + 4).fill(7);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let syncs = 0;
  while (performance.now() < deadline) {
    await handle.write(record, 0, record.length, syncs * record.length);
    await handle.datasync();
    syncs += 1;
  }
  await handle.close();
  return syncs / ((performance.now() - started) / 1000);
}

async function appendRate(dir: string, batch: number, round: number): Promise<number> {
  const wal = await Wal.open({ dataDir: join(dir, `wal-${batch}-${round}`) });
  const data = new Uint8Array(ENTRY_BYTES).fill(1);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let next = 1;
  while (performance.now() < deadline) {
    const entries: Entry[] = Array.from({ length: batch }, (_, i) => ({
      term: 1,
      index: next + i,
      kind: 'normal',
      data,
    }));
    await wal.append({ entries });
    next += batch;
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  await wal.close();
  return (next - 1) / elapsedSeconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'weft-bench-wal-')));
try {
  const samples = {
    raw: [] as number[],
    batch1: [] as number[],
    ratio1: [] as number[],
    batch16: [] as number[],
    batch256: [] as number[],
  };
  for (let round = 0; round < rounds; round += 1) {
    // The anchor is the faster of the two raw loops, so the ratio is never flattered by a slow anchor.
    const raw = Math.max(rawSyncCallsPerSecond(dir), await rawPromiseCallsPerSecond(dir));
    const batch1 = await appendRate(dir, 1, round);
    samples.raw.push(raw);
    samples.batch1.push(batch1);
    samples.ratio1.push(batch1 / raw);
    samples.batch16.push(await appendRate(dir, 16, round));
    samples.batch256.push(await appendRate(dir, 256, round));
  }
  const raw = median(samples.raw);
  const row = (name: string, eps: number, ratio: number): string =>
    `${name.padEnd(30)} ${Math.round(eps).toString().padStart(10)} entries/s ${ratio.toFixed(2).padStart(8)}x raw`;
  console.log(
    `WAL bench in ${dir}: ${rounds} rounds of ${seconds} s per measurement, ${ENTRY_BYTES}-byte entries, medians`,
  );
  console.log(
    `raw write+fdatasync (sync I/O)  ${Math.round(raw).toString().padStart(10)} syncs/s   (rounds: ${samples.raw.map(Math.round).join(' ')})`,
  );
  console.log(row('append batch 1 (fdatasync)', median(samples.batch1), median(samples.ratio1)));
  console.log(row('append batch 16 (fdatasync)', median(samples.batch16), median(samples.batch16) / raw));
  console.log(row('append batch 256 (fdatasync)', median(samples.batch256), median(samples.batch256) / raw));
  console.log(
    `raw_fsync_per_s=${Math.round(raw)} batch1_ratio=${median(samples.ratio1).toFixed(2)} batch16_eps=${Math.round(median(samples.batch16))} batch256_eps=${Math.round(median(samples.batch256))}`,
  );
} finally {
  if (values.dir === undefined) await rm(dir, { recursive: true, force: true });
}
