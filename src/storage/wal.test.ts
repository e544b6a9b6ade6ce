import { strict as assert } from 'node:assert';
import { appendFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { entries, entry, withTempDir } from './test-helpers.ts';
import { repairWal } from './wal-repair.ts';
import { Wal, type WalOptions } from './wal.ts';
import { encodeRecord, RECORD_HEADER_BYTES, RecordType } from './wal-record.ts';

// The WAL on real files: recovery after reopen, group commit, segment
// rolling and release, and each kind of damage with its documented outcome.
const conf = { voters: ['n1'], learners: [] };

async function withWal(dir: string, options: Partial<WalOptions>, body: (wal: Wal) => Promise<void>): Promise<void> {
  const wal = await Wal.open({ dataDir: dir, ...options });
  try {
    await body(wal);
  } finally {
    await wal.close();
  }
}

async function segmentPaths(dir: string): Promise<string[]> {
  const names = (await readdir(join(dir, 'wal'))).sort();
  return names.map((name) => join(dir, 'wal', name));
}

/** Writes entries 1..count in batches of `batch`, on segments of `segmentSizeBytes`. */
async function fill(dir: string, count: number, batch: number, segmentSizeBytes = 64 * 1024 * 1024): Promise<void> {
  await withWal(dir, { segmentSizeBytes }, async (wal) => {
    for (let first = 1; first <= count; first += batch) {
      const last = Math.min(count, first + batch - 1);
      await wal.append({ entries: entries(first, last), hardState: { term: 1, vote: 'n1', commit: last } });
    }
  });
}

const corruptMatch = (dir: string) => (e: unknown) =>
  isWeftError(e, 'WAL_CORRUPT') && e.message.includes(`weft repair --data-dir ${dir}`);

describe('WAL', () => {
  it('recovers entries, hard state and snapshot marker after reopening', () =>
    withTempDir(async (dir) => {
      await withWal(dir, {}, async (wal) => {
        await wal.append({ entries: entries(1, 10), hardState: { term: 1, vote: 'n1', commit: 8 } });
        await wal.append({ entries: [entry(9, 2, 'x9')] });
        await wal.saveSnapshotMarker({ index: 5, term: 1, conf });
      });
      await withWal(dir, {}, async (wal) => {
        const state = wal.readAll();
        assert.deepEqual(
          state.entries.map((e) => [e.index, e.term]),
          [
            [6, 1],
            [7, 1],
            [8, 1],
            [9, 2],
          ],
        );
        assert.deepEqual(state.entries.at(-1), entry(9, 2, 'x9'));
        assert.deepEqual(state.hardState, { term: 1, vote: 'n1', commit: 8 });
        assert.deepEqual(state.snapshot, { index: 5, term: 1, conf });
        await wal.append({ entries: [entry(10, 2)] });
      });
      await withWal(dir, {}, async (wal) => assert.equal(wal.readAll().entries.at(-1)?.index, 10));
    }));

  it('replays entries into shared buffers, not an ArrayBuffer each nor views of a whole segment', () =>
    withTempDir(async (dir) => {
      await fill(dir, 2_000, 100, 64 * 1024);
      await withWal(dir, {}, async (wal) => {
        const replayed = wal.readAll().entries;
        assert.deepEqual(
          replayed.map((e) => [e.index, new TextDecoder().decode(e.data)]),
          entries(1, 2_000).map((e) => [e.index, new TextDecoder().decode(e.data)]),
        );
        const buffers = new Set(replayed.map((e) => e.data.buffer));
        assert.ok(buffers.size < 20, `${buffers.size} buffers for 2,000 entries`);
        assert.ok(
          [...buffers].every((buffer) => buffer.byteLength <= 16 * 1024),
          'no entry keeps a segment (64 KiB) alive',
        );
      });
    }));

  it('group commit: concurrent appends share syncs, and each resolves after its bytes are synced', () =>
    withTempDir(async (dir) => {
      await withWal(dir, {}, async (wal) => {
        const appends = Array.from({ length: 200 }, (_, i) => wal.append({ entries: [entry(i + 1)] }));
        await Promise.all(appends);
        assert.equal(wal.stats.appends, 200);
        assert.ok(wal.stats.syncs < 200, `200 concurrent appends took ${wal.stats.syncs} syncs`);
        assert.equal(wal.stats.syncs, wal.stats.batches);
        assert.equal(wal.readAll().entries.length, 200);
      });
    }));

  it('rolls segments at the size limit, and release removes the ones below the snapshot', () =>
    withTempDir(async (dir) => {
      await fill(dir, 300, 10, 600);
      const before = await segmentPaths(dir);
      assert.ok(before.length > 5, `${before.length} segments`);
      for (const path of before) assert.ok((await stat(path)).size <= 600 + 200);
      await withWal(dir, { segmentSizeBytes: 600 }, async (wal) => {
        await wal.saveSnapshotMarker({ index: 250, term: 1, conf });
        await wal.releaseBefore(251);
        const after = wal.segmentFiles();
        assert.ok(after.length < before.length && after.length >= 1);
        assert.ok(after[0]!.firstIndex <= 251);
      });
      await withWal(dir, {}, async (wal) => {
        const state = wal.readAll();
        assert.deepEqual(
          state.entries.map((e) => e.index),
          entries(251, 300).map((e) => e.index),
        );
        assert.equal(state.hardState.commit, 300);
        assert.equal(state.snapshot?.index, 250);
      });
    }));

  it('keeps the entries after a snapshot marker when later segment headers carry the same marker', () =>
    withTempDir(async (dir) => {
      await withWal(dir, { segmentSizeBytes: 600 }, async (wal) => {
        await wal.append({ entries: entries(1, 20) });
        await wal.saveSnapshotMarker({ index: 20, term: 1, conf });
        for (let first = 21; first <= 200; first += 10) await wal.append({ entries: entries(first, first + 9) });
        assert.ok(wal.segmentFiles().length > 3);
      });
      await withWal(dir, {}, async (wal) => {
        assert.deepEqual(
          wal.readAll().entries.map((e) => e.index),
          entries(21, 200).map((e) => e.index),
        );
      });
    }));

  it('truncates a torn last record with a warning and keeps every complete record', () =>
    withTempDir(async (dir) => {
      await fill(dir, 20, 5);
      const [segment] = await segmentPaths(dir);
      const full = await readFile(segment!);
      await writeFile(segment!, full.subarray(0, full.length - 3));
      const warnings: string[] = [];
      await withWal(dir, { onWarning: (message) => warnings.push(message) }, async (wal) => {
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /truncated a torn record at the end of .*\.wal at byte \d+/);
        // The last batch lost its hard-state record only: every entry is intact.
        assert.deepEqual(wal.readAll().entries.length, 20);
        assert.equal(wal.readAll().hardState.commit, 15);
        await wal.append({ entries: [entry(21)] });
      });
      await withWal(dir, {}, async (wal) => assert.equal(wal.readAll().entries.at(-1)?.index, 21));
    }));

  it('treats a zero-filled or half-written tail as torn', () =>
    withTempDir(async (dir) => {
      await fill(dir, 5, 5);
      const [segment] = await segmentPaths(dir);
      await appendFile(segment!, new Uint8Array(100));
      await withWal(dir, {}, async (wal) => assert.equal(wal.readAll().entries.length, 5));
      await appendFile(segment!, new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, 2, 9, 9]));
      await withWal(dir, {}, async (wal) => assert.equal(wal.readAll().entries.length, 5));
    }));

  it('refuses to start on a flipped byte in the middle of a segment, naming the file, offset and repair command', () =>
    withTempDir(async (dir) => {
      await fill(dir, 50, 5);
      const [segment] = await segmentPaths(dir);
      const bytes = await readFile(segment!);
      const offset = Math.floor(bytes.length / 2);
      bytes[offset] = bytes[offset]! ^ 0x40;
      await writeFile(segment!, bytes);
      await assert.rejects(Wal.open({ dataDir: dir }), (e: unknown) => {
        assert.ok(corruptMatch(dir)(e), String(e));
        assert.match(
          (e as Error).message,
          new RegExp(`${segment!.replaceAll('/', '\\/')} byte \\d+ \\(checksum mismatch\\)`),
        );
        return true;
      });
    }));

  it('refuses to start on a last record whose checksum holds but whose content does not decode (not torn)', () =>
    withTempDir(async (dir) => {
      await fill(dir, 5, 5);
      const [segment] = await segmentPaths(dir);
      await appendFile(segment!, encodeRecord(RecordType.entry, new Uint8Array([1, 6, 9])));
      await assert.rejects(
        Wal.open({ dataDir: dir }),
        (e: unknown) => corruptMatch(dir)(e) && /unknown entry kind 9/.test(String(e)),
      );
    }));

  it('refuses to start when a middle segment is missing', () =>
    withTempDir(async (dir) => {
      await fill(dir, 200, 10, 1024);
      const paths = await segmentPaths(dir);
      assert.ok(paths.length >= 4);
      await rm(paths[2]!);
      await assert.rejects(
        Wal.open({ dataDir: dir }),
        (e: unknown) => corruptMatch(dir)(e) && /segment 3 is missing \(found 4 after 2\)/.test(String(e)),
      );
    }));

  it('refuses to start when the first segment is missing and no snapshot covers its entries', () =>
    withTempDir(async (dir) => {
      await fill(dir, 200, 10, 1024);
      await rm((await segmentPaths(dir))[0]!);
      await assert.rejects(
        Wal.open({ dataDir: dir }),
        (e: unknown) =>
          isWeftError(e, 'WAL_CORRUPT') && /has no entries 1\.\.\d+ \(a segment file is missing\)/.test(String(e)),
      );
    }));

  it('weft repair truncates after the last good record and counts the entries it drops', () =>
    withTempDir(async (dir) => {
      await fill(dir, 200, 10, 1024);
      const paths = await segmentPaths(dir);
      const victim = paths[1]!;
      const bytes = await readFile(victim);
      bytes[RECORD_HEADER_BYTES + 60] = bytes[RECORD_HEADER_BYTES + 60]! ^ 0xff;
      await writeFile(victim, bytes);
      const dry = await repairWal(dir, { dryRun: true });
      assert.equal(dry.applied, false);
      assert.equal((await segmentPaths(dir)).length, paths.length);
      const report = await repairWal(dir);
      assert.equal(report.applied, true);
      assert.equal(report.removedFiles.length, paths.length - 2);
      await withWal(dir, {}, async (wal) => {
        const state = wal.readAll();
        const last = state.entries.at(-1)!.index;
        assert.equal(report.droppedEntries, 200 - last);
        // The damaged record was entry last + 1: counted, but its index is unreadable.
        assert.deepEqual(report.droppedIndexes, { first: last + 2, last: 200 });
        assert.ok(state.hardState.commit <= last);
      });
      assert.equal((await repairWal(dir)).damage, undefined);
    }));

  it('rejects an entry over the record limit with ENTRY_TOO_LARGE and stays usable', () =>
    withTempDir(async (dir) => {
      await withWal(dir, { maxRecordBytes: 100 }, async (wal) => {
        await assert.rejects(
          wal.append({ entries: [entry(1, 1, 'x'.repeat(200))] }),
          (e: unknown) => isWeftError(e, 'ENTRY_TOO_LARGE') && /over the 100-byte limit/.test(String(e)),
        );
        await wal.append({ entries: [entry(1)] });
        assert.equal(wal.readAll().entries.length, 1);
      });
    }));

  it('says loudly that sync is off in sync: none mode', () =>
    withTempDir(async (dir) => {
      const warnings: string[] = [];
      await withWal(dir, { sync: 'none', onWarning: (m) => warnings.push(m) }, async (wal) => {
        await wal.append({ entries: [entry(1)] });
        assert.equal(wal.stats.syncs, 0);
      });
      assert.match(warnings.join('\n'), /WAL SYNC IS OFF/);
    }));

  it('with added latency, says so and acknowledges each batch no sooner than that after writing it', () =>
    withTempDir(async (dir) => {
      const warnings: string[] = [];
      await withWal(dir, { addedLatencyMs: 40, onWarning: (m) => warnings.push(m) }, async (wal) => {
        const started = performance.now();
        await wal.append({ entries: [entry(1)] });
        // A lower bound only (timers may fire a millisecond early): what the option promises.
        assert.ok(performance.now() - started >= 35, 'the append waited out the added latency');
        assert.equal(wal.readAll().entries.length, 1);
      });
      assert.match(warnings.join('\n'), /slowed on purpose/);
    }));
});
