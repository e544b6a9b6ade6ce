import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { checkIntervalMs, CompactionSchedule } from './auto-compaction.ts';

describe('CompactionSchedule', () => {
  it('periodic: compacts to the revision the store had one retention ago, once per period', () => {
    const schedule = new CompactionSchedule({ mode: 'periodic', retentionMs: 1_000 });
    assert.equal(checkIntervalMs({ mode: 'periodic', retentionMs: 1_000 }), 100);
    const seen: (number | undefined)[] = [];
    // One write per 10 ms: the revision at time t is t / 10 + 1.
    for (let t = 0; t <= 2_500; t += 100) seen.push(schedule.observe(t, t / 10 + 1, 0));
    // Nothing until a sample is a full retention old (t = 1000: the sample of t = 0, revision 1).
    assert.deepEqual(seen.slice(0, 10), Array(10).fill(undefined));
    assert.equal(seen[10], 1);
    // Then nothing for one period, and at t = 2000 the revision of t = 1000.
    assert.deepEqual(seen.slice(11, 20), Array(9).fill(undefined));
    assert.equal(seen[20], 101);
    assert.deepEqual(seen.slice(21), Array(5).fill(undefined));
  });

  it('periodic: never proposes a revision already compacted (a client compacted further)', () => {
    const schedule = new CompactionSchedule({ mode: 'periodic', retentionMs: 1_000 });
    schedule.observe(0, 5, 0);
    assert.equal(schedule.observe(1_000, 50, 7), undefined);
  });

  it('revision: keeps the last `retention` revisions, and checks every 5 minutes', () => {
    const schedule = new CompactionSchedule({ mode: 'revision', retention: 100 });
    assert.equal(checkIntervalMs({ mode: 'revision', retention: 100 }), 300_000);
    assert.equal(schedule.observe(0, 80, 0), undefined, 'not enough history yet');
    assert.equal(schedule.observe(1, 250, 0), 150);
    assert.equal(schedule.observe(2, 250, 150), undefined, 'already there');
    assert.equal(schedule.observe(3, 260, 150), 160);
  });
});
