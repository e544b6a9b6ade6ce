import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DedupWindow } from './dedup-window.ts';

describe('DedupWindow', () => {
  it('keeps the last `capacity` ids and hands back the oldest as each new one comes in', () => {
    const window = new DedupWindow(3);
    const evicted: (number | undefined)[] = [];
    for (let id = 1; id <= 20; id += 1)
      evicted.push(window.add(id * 10, { seq: id, revision: id * 100, block: id })?.seq);
    assert.deepEqual(evicted, [undefined, undefined, undefined, ...Array.from({ length: 17 }, (_, i) => i + 1)]);
    assert.equal(window.size, 3);
    assert.deepEqual(window.get(200), { seq: 20, revision: 2000, block: 20 });
    assert.equal(window.oldest()?.seq, 18);
    assert.deepEqual(window.get(180), { seq: 18, revision: 1800, block: 18 });
    assert.equal(window.get(170), undefined);
  });

  it('an id that fell out can come back, and leaves in its new turn', () => {
    const window = new DedupWindow(2);
    window.add(1, { seq: 1, revision: 1, block: 1 });
    window.add(2, { seq: 2, revision: 2, block: 1 });
    assert.equal(window.add(3, { seq: 3, revision: 3, block: 1 })?.seq, 1);
    assert.equal(window.add(1, { seq: 4, revision: 4, block: 1 })?.seq, 2);
    assert.equal(window.add(5, { seq: 5, revision: 5, block: 1 })?.seq, 3);
    assert.deepEqual(window.get(1), { seq: 4, revision: 4, block: 1 });
  });
});
