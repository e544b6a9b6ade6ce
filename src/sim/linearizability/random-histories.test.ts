// Histories recorded from correct objects are linearizable by construction
// (each operation took effect at an instant inside its interval), so the
// checker must accept every one, and the order it returns must be a real
// linearization. Some outcomes are unknown, and some of those never took
// effect.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../../core/prng.ts';
import { checkLinearizability } from './check.ts';
import { isCompleted, type Operation } from './history.ts';
import { kvModel } from './kv-model.ts';
import type { Model } from './model.ts';
import { registerModel } from './register-model.ts';
import { KvStore, randomKvInput, randomRegisterInput, Register } from './testkit/objects.ts';
import { linearizationFlaw } from './testkit/oracles.ts';
import { randomHistory } from './testkit/random-history.ts';

const SEEDS = 200;

/** Checks one history that must be linearizable; returns how many unknown operations its linearizations leave out. */
function expectLinearizable<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], seed: number): number {
  const result = checkLinearizability(model, history);
  assert.equal(
    result.verdict,
    'linearizable',
    `seed ${seed}: ${result.verdict === 'violation' ? result.explanation : ''}`,
  );
  let placed = 0;
  for (const { partition, order } of result.linearizations) {
    assert.equal(linearizationFlaw(model, partition.operations, order), undefined, `seed ${seed}`);
    placed += order.length;
  }
  return history.length - placed;
}

describe('linearizability checker: random histories of correct objects', () => {
  it(`accepts ${SEEDS} register histories (4 clients, 40 operations, 10% unknown outcomes)`, () => {
    let unknown = 0;
    let leftOut = 0;
    for (let seed = 0; seed < SEEDS; seed += 1) {
      const prng = createPrng(seed);
      const history = randomHistory(prng, {
        clients: 4,
        operations: 40,
        unknownChance: 0.1,
        durationMaxTicks: 6,
        object: new Register(0),
        nextInput: randomRegisterInput,
      });
      unknown += history.filter((operation) => !isCompleted(operation)).length;
      leftOut += expectLinearizable(registerModel(0), history, seed);
    }
    assert.ok(unknown > SEEDS && leftOut > 0, `${unknown} unknown outcomes, ${leftOut} left out of linearizations`);
  });

  it(`accepts ${SEEDS} key-value histories (5 clients, 60 operations on 3 keys, 10% unknown outcomes)`, () => {
    let withFailedCas = 0;
    for (let seed = 0; seed < SEEDS; seed += 1) {
      const prng = createPrng(seed);
      const history = randomHistory(prng, {
        clients: 5,
        operations: 60,
        unknownChance: 0.1,
        durationMaxTicks: 8,
        object: new KvStore(prng.fork()),
        nextInput: (random) => randomKvInput(random, ['x', 'y', 'z']),
      });
      expectLinearizable(kvModel, history, seed);
      if (history.some((operation) => operation.output?.kind === 'failed')) withFailedCas += 1;
    }
    assert.ok(withFailedCas > SEEDS / 2, `failed cas occurs in ${withFailedCas} histories`);
  });
});
