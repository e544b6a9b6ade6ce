// The checker against a brute-force oracle that works straight from the
// definition, on thousands of small histories: some with arbitrary outputs
// (mostly not linearizable), some recorded from correct or buggy objects.
// The oracle sees the whole history at once, so the agreement also covers
// the checker's partitioning (P-compositionality), its memoization and its
// pruning of unknown-outcome operations.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPrng } from '../../core/prng.ts';
import { checkLinearizability } from './check.ts';
import type { Operation } from './history.ts';
import { kvModel, type KvInput, type KvOutput } from './kv-model.ts';
import type { Model } from './model.ts';
import { registerModel } from './register-model.ts';
import { KV_BUGS, KvStore, randomKvInput, randomRegisterInput, Register } from './testkit/objects.ts';
import { bruteForceLinearizable, linearizationFlaw } from './testkit/oracles.ts';
import { randomHistory } from './testkit/random-history.ts';

/** Asserts that the checker and the oracle agree on `history`; returns the oracle's verdict. */
function agree<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[]): boolean {
  const linearizable = bruteForceLinearizable(model, history);
  const result = checkLinearizability(model, history);
  assert.equal(result.verdict, linearizable ? 'linearizable' : 'violation');
  if (result.verdict === 'violation') {
    assert.equal(
      bruteForceLinearizable(model, result.partition.operations),
      false,
      'the failing partition fails alone',
    );
    assert.ok(result.explanation.includes(result.partition.label));
  }
  if (result.verdict === 'linearizable') {
    for (const { partition, order } of result.linearizations) {
      assert.equal(linearizationFlaw(model, partition.operations, order), undefined);
    }
  }
  return linearizable;
}

const value = fc.constantFrom('a', 'b');
const maybeAbsent = fc.constantFrom<string | null>(null, 'a', 'b');
const key = fc.constantFrom('x', 'y');

/** A KV operation with an output of the right kind but otherwise arbitrary. */
const kvCall: fc.Arbitrary<{ input: KvInput; output: KvOutput }> = fc.oneof(
  fc.record({
    input: fc.record({ kind: fc.constant('get' as const), key }),
    output: fc.record({ kind: fc.constant('value' as const), value: maybeAbsent }),
  }),
  fc.record({
    input: fc.record({ kind: fc.constant('put' as const), key, value }),
    output: fc.constant({ kind: 'ok' as const }),
  }),
  fc.record({
    input: fc.record({ kind: fc.constant('delete' as const), key }),
    output: fc.constant({ kind: 'ok' as const }),
  }),
  fc.record({
    input: fc.record({ kind: fc.constant('cas' as const), key, expected: maybeAbsent, value }),
    output: fc.oneof(
      fc.constant({ kind: 'ok' as const }),
      fc.constant({ kind: 'failed' as const }),
      fc.record({ kind: fc.constant('failed' as const), actual: maybeAbsent }),
    ),
  }),
);

const arbitraryKvHistory: fc.Arbitrary<Operation<KvInput, KvOutput>[]> = fc
  .array(
    fc.record({
      clientId: fc.integer({ min: 0, max: 2 }),
      call: fc.integer({ min: 0, max: 10 }),
      duration: fc.integer({ min: 0, max: 5 }),
      unknown: fc.boolean(),
      operation: kvCall,
    }),
    { minLength: 1, maxLength: 8 },
  )
  .map((specs) =>
    specs.map(({ clientId, call, duration, unknown, operation: { input, output } }, id) =>
      unknown ? { id, clientId, input, call } : { id, clientId, input, call, return: call + duration, output },
    ),
  );

describe('linearizability checker agrees with a brute-force oracle', () => {
  it('on 2,000 small key-value histories with arbitrary outputs', (t) => {
    let linearizable = 0;
    fc.assert(
      fc.property(arbitraryKvHistory, (history) => {
        if (agree(kvModel, history)) linearizable += 1;
      }),
      { numRuns: 2_000, seed: 4 },
    );
    t.diagnostic(`${linearizable} of 2,000 linearizable`);
    assert.ok(linearizable > 200 && linearizable < 1_800, 'both verdicts are covered');
  });

  it('on 1,000 small key-value and 1,000 register histories recorded from correct and buggy objects', (t) => {
    let linearizable = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(undefined, ...KV_BUGS), (seed, bug) => {
        const prng = createPrng(seed);
        const object = new KvStore(prng.fork(), bug === undefined ? undefined : { bug, chance: 0.4 });
        const nextInput = (random: typeof prng) => randomKvInput(random, ['x', 'y'], 0.5);
        const options = { clients: 3, operations: 12, unknownChance: 0.2, durationMaxTicks: 4, object, nextInput };
        if (agree(kvModel, randomHistory(prng, options))) linearizable += 1;
        const registerOptions = { ...options, operations: 9, object: new Register(0), nextInput: randomRegisterInput };
        assert.ok(agree(registerModel(0), randomHistory(prng, registerOptions)), 'a correct register is linearizable');
      }),
      { numRuns: 1_000, seed: 5 },
    );
    t.diagnostic(`${linearizable} of 1,000 key-value histories linearizable`);
    assert.ok(linearizable > 250 && linearizable < 950, 'both verdicts are covered');
  });
});
