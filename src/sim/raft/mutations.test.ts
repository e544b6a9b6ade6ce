import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { CheckerName } from './checkers.ts';
import { mutationNames, mutationOverrides, runSeed, type MutationName } from './run.ts';

/**
 * A checker that never fails is not a checker: with each planted bug, the
 * simulator must report a violation, and from the checker that guards the
 * property the bug breaks (not, say, a liveness timeout).
 */
const expected: Record<MutationName, CheckerName[]> = {
  'vote-ignores-log': ['leader-completeness', 'state-machine-safety', 'log-matching'],
  'commit-old-term': ['leader-completeness', 'state-machine-safety'],
  'forget-vote-on-restart': ['election-safety', 'leader-completeness', 'state-machine-safety'],
  'sraft-skip-log-check': ['leader-completeness', 'state-machine-safety', 'log-matching'],
  'sraft-double-vote': ['election-safety', 'leader-completeness', 'state-machine-safety'],
  'kv-stale-reads': ['linearizability'],
};

const seedsMax = 200;

describe('the simulator has teeth', () => {
  for (const name of mutationNames) {
    it(`finds ${name} within ${seedsMax} seeds`, () => {
      for (let seed = 1; seed <= seedsMax; seed += 1) {
        const result = runSeed(seed, mutationOverrides(name));
        const violation = result.violations[0];
        if (violation === undefined) continue;
        assert.ok(
          expected[name].includes(violation.checker),
          `seed ${seed}: ${name} was caught by ${violation.checker}: ${violation.detail}`,
        );
        return;
      }
      assert.fail(`no violation with ${name} in ${seedsMax} seeds: the checkers lost their teeth`);
    });
  }

  it("reports a failed assert in the code under test as the seed's violation, not as a crash of the sweep", () => {
    // Seed 103 with commit-old-term: the planted bug's damage reaches RaftLog.commitTo's assert
    // (a follower's commit index beyond the new leader's log); the exception used to end a 300-seed sweep.
    const result = runSeed(103, mutationOverrides('commit-old-term'));
    const invariant = result.violations.find((v) => v.checker === 'invariant');
    assert.ok(invariant, `checkers: ${result.violations.map((v) => v.checker).join(', ')}`);
    assert.match(invariant.detail, /^invariant broken: commit \d+ is within the log/);
    assert.ok(result.trace.length > 0, 'the trace for the replay is kept');
  });
});
