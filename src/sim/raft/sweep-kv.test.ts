import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { ciOverrides, sweep } from './sweep.ts';

// Clients read and write keys through the faulty cluster (Raft and S-Raft by
// seed); every history must be linearizable. Replay a failing seed with:
// npm run sim -- --workload kv --seed S --ticks 1000 --trace
it('seeds 1..60 of the KV workload produce only linearizable histories', () => {
  assert.deepEqual(sweep(1, 60, { ...ciOverrides, workload: 'kv' }), []);
});
