import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { sweep } from './sweep.ts';

// Half of the CI sweep (the other half runs in parallel in sweep-2.test.ts).
// Replay a failing seed with: npm run sim -- --seed S --ticks 1000 --trace
it('seeds 1..150 of the simulator keep every safety and liveness property', () => {
  assert.deepEqual(sweep(1, 150), []);
});
