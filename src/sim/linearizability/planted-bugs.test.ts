// A checker that never fails is not a checker: the same random workloads as
// random-histories.test.ts, run against a store with a planted bug, must be
// caught. A bug only shows when the workload happens to observe it (a lost
// write overwritten before anyone reads it is invisible), so on small
// histories the brute-force oracle says which seeds are truly not
// linearizable and the checker must flag exactly those; on longer histories
// with rarer bugs, most seeds must be caught. The counts are in
// docs/linearizability.md.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../../core/prng.ts';
import { checkLinearizability } from './check.ts';
import { kvModel, type KvInput, type KvOutput } from './kv-model.ts';
import { KV_BUGS, KvStore, randomKvInput, type KvBug } from './testkit/objects.ts';
import { bruteForceLinearizable } from './testkit/oracles.ts';
import { randomHistory, type WorkloadOptions } from './testkit/random-history.ts';

interface Workload {
  readonly clients: number;
  readonly operations: number;
  readonly keys: readonly string[];
  readonly bugChance: number;
}

function buggyHistory(seed: number, bug: KvBug, workload: Workload) {
  const prng = createPrng(seed);
  const options: WorkloadOptions<KvInput, KvOutput> = {
    clients: workload.clients,
    operations: workload.operations,
    unknownChance: 0.05,
    durationMaxTicks: 6,
    object: new KvStore(prng.fork(), { bug, chance: workload.bugChance }),
    nextInput: (random) => randomKvInput(random, workload.keys),
  };
  return randomHistory(prng, options);
}

const SMALL: Workload = { clients: 4, operations: 45, keys: ['x', 'y', 'z'], bugChance: 0.3 };
const LONG: Workload = { clients: 5, operations: 200, keys: ['x', 'y'], bugChance: 0.05 };
const SMALL_SEEDS = 100;
const LONG_SEEDS = 40;

describe('linearizability checker: planted bugs', () => {
  for (const bug of KV_BUGS) {
    it(`flags exactly the ${bug} histories the brute-force oracle rejects (${SMALL_SEEDS} seeds, 45 operations)`, (t) => {
      let caught = 0;
      for (let seed = 0; seed < SMALL_SEEDS; seed += 1) {
        const history = buggyHistory(seed, bug, SMALL);
        const partitions = kvModel.partition?.(history) ?? [];
        const linearizable = partitions.every((partition) => bruteForceLinearizable(kvModel, partition.operations));
        const result = checkLinearizability(kvModel, history);
        assert.equal(result.verdict, linearizable ? 'linearizable' : 'violation', `seed ${seed}`);
        if (result.verdict === 'violation') caught += 1;
      }
      t.diagnostic(`${bug}: ${caught} of ${SMALL_SEEDS} seeds caught`);
      assert.ok(caught > SMALL_SEEDS / 2, `${bug}: only ${caught} of ${SMALL_SEEDS} seeds show the bug`);
    });
  }

  it(`catches most seeds of rarer bugs in longer histories (${LONG_SEEDS} seeds per bug, 200 operations)`, (t) => {
    const caught = new Map<string, number>();
    for (const bug of KV_BUGS) {
      for (let seed = 0; seed < LONG_SEEDS; seed += 1) {
        const result = checkLinearizability(kvModel, buggyHistory(seed, bug, LONG));
        assert.notEqual(result.verdict, 'unknown', `${bug} seed ${seed} is decided within the default budget`);
        if (result.verdict === 'violation') caught.set(bug, (caught.get(bug) ?? 0) + 1);
      }
    }
    const total = [...caught.values()].reduce((sum, count) => sum + count, 0);
    t.diagnostic(`caught ${JSON.stringify(Object.fromEntries(caught))} of ${LONG_SEEDS} seeds each`);
    assert.ok(total > (KV_BUGS.length * LONG_SEEDS) / 2, `caught ${total} of ${KV_BUGS.length * LONG_SEEDS}`);
  });
});
