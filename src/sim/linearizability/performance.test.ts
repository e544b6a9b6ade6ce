// A sanity bound on the search: a long single-key history from a correct
// register, the worst case for partitioning, is decided within the default
// step budget. Steps, not time, so the test cannot flake on a slow machine.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../../core/prng.ts';
import { checkLinearizability, DEFAULT_SEARCH_STEPS_MAX } from './check.ts';
import { isCompleted } from './history.ts';
import { registerModel } from './register-model.ts';
import { randomRegisterInput, Register } from './testkit/objects.ts';
import { randomHistory } from './testkit/random-history.ts';

describe('linearizability checker: performance', () => {
  it('decides a 2,000-operation, 5-client register history with unknown outcomes within the budget', (t) => {
    const history = randomHistory(createPrng(2_000), {
      clients: 5,
      operations: 2_000,
      unknownChance: 0.02,
      durationMaxTicks: 10,
      object: new Register(0),
      nextInput: randomRegisterInput,
    });
    const unknown = history.filter((operation) => !isCompleted(operation)).length;
    const result = checkLinearizability(registerModel(0), history);
    t.diagnostic(`${unknown} unknown outcomes; ${result.searchSteps} of ${DEFAULT_SEARCH_STEPS_MAX} steps`);
    assert.ok(unknown > 20, 'the history has unknown outcomes to search over');
    assert.equal(result.verdict, 'linearizable');
  });
});
