import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCrashTest } from './crash/harness.ts';

// Real processes, real SIGKILL: a writer appends to the WAL and applies to
// the store as fast as it can and is killed 20 times at random moments; after
// each kill every acknowledged entry must be there, in order, once, and the
// store must equal a replay of the log. `npm run test:crash -- --iterations N`
// runs more.
describe('crash test (SIGKILL during appends)', () => {
  it('loses no acknowledged entry over 20 kills, and the store always equals a replay of the log', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-crash-'));
    const seed = Date.now() % 2 ** 31;
    try {
      const summary = await runCrashTest({ dataDir, iterations: 20, seed });
      assert.equal(summary.iterations, 20);
      assert.ok(summary.lastIndex > 0);
    } catch (error) {
      throw new Error(
        `crash test failed with seed=${seed}; replay: npm run test:crash -- --seed ${seed} --iterations 20`,
        {
          cause: error,
        },
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
