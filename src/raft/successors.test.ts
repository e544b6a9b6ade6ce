import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../core/prng.ts';
import { rankSuccessors, RttEstimator, successorTimeoutTicks } from './successors.ts';

describe('S-Raft successors', () => {
  it('rank the most caught-up log first, then the fastest link, then the id', () => {
    const ranked = rankSuccessors([
      { id: 'n4', match: 90, rttMs: 0.1 },
      { id: 'n2', match: 100, rttMs: 5 },
      { id: 'n3', match: 100, rttMs: 1 },
      { id: 'n5', match: 100, rttMs: undefined },
      { id: 'n6', match: 100, rttMs: 1 },
    ]);
    assert.deepEqual(ranked, ['n3', 'n6', 'n2', 'n5', 'n4']);
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
