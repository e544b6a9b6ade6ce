// The crash test from the command line:
//   npm run test:crash -- [--iterations N] [--seed S] [--data-dir DIR]
// Kills a WAL writer N times at random moments and checks after each kill
// that every acknowledged entry survived and the store equals a log replay.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCrashTest } from './harness.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '100' }, seed: { type: 'string' }, 'data-dir': { type: 'string' } },
});
const iterations = Number(values.iterations);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const dataDir = values['data-dir'] ?? (await mkdtemp(join(tmpdir(), 'weft-crash-')));
console.log(`crash test: ${iterations} kills, seed=${seed}, data in ${dataDir}`);
try {
  const summary = await runCrashTest({
    dataDir,
    iterations,
    seed,
    onIteration: (i, acked, v) =>
      console.log(
        `kill ${i}: acked ${acked}, log ${v.snapshotIndex + 1}..${v.lastIndex}, store had applied ${v.appliedBefore}: ok`,
      ),
  });
  console.log(
    `passed: ${summary.iterations} kills, ${summary.lastIndex} entries, ${summary.snapshots} distinct snapshots`,
  );
  if (values['data-dir'] === undefined) await rm(dataDir, { recursive: true, force: true });
} catch (error) {
  console.error(`FAILED with seed=${seed} (data kept in ${dataDir}):`, error);
  process.exitCode = 1;
}
