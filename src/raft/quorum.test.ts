import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { majorityCommitted } from './quorum.ts';

describe('majorityCommitted', () => {
  it('is the highest index that a majority of the voters has', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20 }), { maxLength: 9 }), (matches) => {
        const voters = matches.map((_, i) => `n${i}`);
        const index = majorityCommitted(voters, (id) => matches[Number(id.slice(1))]!);
        const reached = (i: number): number => matches.filter((match) => match >= i).length;
        if (voters.length === 0) return assert.equal(index, 0);
        assert.ok(reached(index) > voters.length / 2, `a majority has ${index}`);
        assert.ok(reached(index + 1) <= voters.length / 2, `no majority has ${index + 1}`);
      }),
      { numRuns: 500 },
    );
  });
});
