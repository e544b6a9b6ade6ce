import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../core/prng.ts';
import { rankSuccessors, RttEstimator, successorTimeoutTicks } from './successors.ts';

describe('S-Raft successors', () => {
  it('rank the caught-up members first, then by the previous ranking, then the fastest link, then the id', () => {
    const ranked = rankSuccessors(
      [
        { id: 'n4', caughtUp: false, rttMs: 0.1 },
        { id: 'n2', caughtUp: true, rttMs: 5 },
        { id: 'n3', caughtUp: true, rttMs: 1 },
        { id: 'n5', caughtUp: true, rttMs: undefined },
        { id: 'n6', caughtUp: true, rttMs: 1 },
      ],
      [],
    );
    assert.deepEqual(ranked, ['n3', 'n6', 'n2', 'n5', 'n4']);
  });

  it('keep the previous order while members stay caught up; a member that falls behind goes last, and stays behind', () => {
    const member = (id: string, caughtUp: boolean, rttMs: number) => ({ id, caughtUp, rttMs });
    // n2's link got faster than n3's: the order stays.
    const kept = rankSuccessors([member('n2', true, 0.5), member('n3', true, 2)], ['n3', 'n2']);
    assert.deepEqual(kept, ['n3', 'n2']);
    // n3 missed a round: n2 leads, and keeps the lead when n3 is back.
    const behind = rankSuccessors([member('n2', true, 0.5), member('n3', false, 2)], kept);
    assert.deepEqual(behind, ['n2', 'n3']);
    assert.deepEqual(rankSuccessors([member('n2', true, 0.5), member('n3', true, 0.1)], behind), ['n2', 'n3']);
    // A member new to the ranking comes after those in it.
    assert.deepEqual(
      rankSuccessors([member('n4', true, 0.1), member('n2', true, 0.5), member('n3', true, 2)], ['n3', 'n2']),
      ['n3', 'n2', 'n4'],
    );
  });

  it('wait by rank: rank 0 shortest, rank 1 about twice that, the rest a normal election timeout', () => {
    const prng = createPrng(1);
    const timing = { promotionTicks: 3, electionTicks: 10 };
    assert.equal(successorTimeoutTicks(0, timing, prng), 3);
    for (let i = 0; i < 50; i += 1) {
      const rank1 = successorTimeoutTicks(1, timing, prng);
      assert.ok(rank1 >= 6 && rank1 <= 7);
      const other = successorTimeoutTicks(2, timing, prng);
      assert.ok(other >= 10 && other < 20);
    }
  });

  it('smooth round-trip times and ignore nonsense', () => {
    const rtt = new RttEstimator(0.5);
    rtt.report('n2', 10);
    rtt.report('n2', 20);
    rtt.report('n2', Number.NaN);
    rtt.report('n2', -1);
    assert.equal(rtt.get('n2'), 15);
    assert.equal(rtt.get('n3'), undefined);
  });
});
