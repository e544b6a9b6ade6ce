import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { createPrng } from '../../core/prng.ts';
import { Scheduler } from './scheduler.ts';

it('runs events in time order, ties in scheduling order', () => {
  const scheduler = new Scheduler();
  const prng = createPrng(3);
  const seen: [number, number][] = [];
  for (let i = 0; i < 500; i += 1) {
    const time = prng.int(0, 50);
    scheduler.at(time, () => seen.push([time, i]));
  }
  scheduler.runUntil(100);
  assert.equal(seen.length, 500);
  for (let i = 1; i < seen.length; i += 1) {
    const [t0, s0] = seen[i - 1]!;
    const [t1, s1] = seen[i]!;
    assert.ok(t0 < t1 || (t0 === t1 && s0 < s1), `order at ${i}`);
  }
  assert.equal(scheduler.now, 100);
});

it('stops early when asked and keeps the rest', () => {
  const scheduler = new Scheduler();
  let count = 0;
  for (let t = 1; t <= 10; t += 1) scheduler.at(t, () => (count += 1));
  scheduler.runUntil(100, () => count === 4);
  assert.equal(count, 4);
  assert.equal(scheduler.pending, 6);
});
