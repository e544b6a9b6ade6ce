import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import type { SnapshotMeta } from '../raft/types.ts';
import type { LogStorage } from './log-storage.ts';
import { MemoryLog } from './memory-log.ts';
import { entries, entry, withTempDir } from './test-helpers.ts';
import { Wal } from './wal.ts';

// One behavioural suite, run against every LogStorage implementation: the
// simulator's MemoryLog must mean exactly what the WAL means.
const implementations: Record<string, (body: (log: LogStorage) => Promise<void>) => Promise<void>> = {
  MemoryLog: async (body) => body(new MemoryLog()),
  Wal: (body) =>
    withTempDir(async (dir) => {
      const wal = await Wal.open({ dataDir: dir });
      try {
        await body(wal);
      } finally {
        await wal.close();
      }
    }),
};

const conf = { voters: ['n1', 'n2', 'n3'], learners: [] };
const indexes = (log: LogStorage): number[] => log.readAll().entries.map((e) => e.index);

for (const [name, withLog] of Object.entries(implementations)) {
  describe(`LogStorage contract: ${name}`, () => {
    it('starts empty, then holds appended entries and the latest hard state', () =>
      withLog(async (log) => {
        assert.deepEqual(log.readAll(), {
          hardState: { term: 0, vote: '', commit: 0 },
          snapshot: undefined,
          entries: [],
        });
        await log.append({ entries: entries(1, 3), hardState: { term: 1, vote: 'n1', commit: 2 } });
        await log.append({ entries: [], hardState: { term: 2, vote: 'n2', commit: 3 } });
        const state = log.readAll();
        assert.deepEqual(indexes(log), [1, 2, 3]);
        assert.deepEqual(state.entries[1], entry(2));
        assert.deepEqual(state.hardState, { term: 2, vote: 'n2', commit: 3 });
      }));

    it('an append at or below the last index replaces the conflicting suffix (Raft §5.3)', () =>
      withLog(async (log) => {
        await log.append({ entries: entries(1, 5, 1) });
        await log.append({ entries: [entry(3, 2, 'new3'), entry(4, 2, 'new4')] });
        assert.deepEqual(indexes(log), [1, 2, 3, 4]);
        assert.deepEqual(log.readAll().entries[2], entry(3, 2, 'new3'));
      }));

    it('a snapshot marker that matches the log keeps the entries after it; one that does not replaces the log', () =>
      withLog(async (log) => {
        await log.append({ entries: entries(1, 6, 1) });
        const matching: SnapshotMeta = { index: 4, term: 1, conf };
        await log.saveSnapshotMarker(matching);
        assert.deepEqual(indexes(log), [5, 6]);
        assert.deepEqual(log.readAll().snapshot, matching);
        await log.saveSnapshotMarker({ index: 10, term: 3, conf });
        assert.deepEqual(indexes(log), []);
        await log.append({ entries: [entry(11, 3)] });
        assert.deepEqual(indexes(log), [11]);
      }));

    it('appends resolve in call order and all of them count', () =>
      withLog(async (log) => {
        const order: number[] = [];
        await Promise.all(
          [1, 2, 3, 4, 5].map((index) => log.append({ entries: [entry(index)] }).then(() => order.push(index))),
        );
        assert.deepEqual(order, [1, 2, 3, 4, 5]);
        assert.deepEqual(indexes(log), [1, 2, 3, 4, 5]);
      }));

    it('refuses a gap, and a release beyond the snapshot, as broken invariants', () =>
      withLog(async (log) => {
        await log.append({ entries: entries(1, 2) });
        await assert.rejects(log.append({ entries: [entry(4)] }), /leaves no gap/);
        await assert.rejects(log.releaseBefore(2), /keeps the entries after the snapshot/);
        await log.releaseBefore(1);
      }));

    it('rejects writes after close with WAL_CLOSED', () =>
      withLog(async (log) => {
        await log.close();
        await assert.rejects(log.append({ entries: [entry(1)] }), (e: unknown) => isWeftError(e, 'WAL_CLOSED'));
      }));
  });
}
