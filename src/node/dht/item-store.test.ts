import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import { createIdSpace } from '../../koorde/id-space.ts';
import { ItemStore, tombstoneTtlMs } from './item-store.ts';

const space = createIdSpace(8, 2);
const item = (id: bigint, version: number, deleted = false) => ({ id, name: `k${id}`, value: 'v', version, deleted });

describe('DHT item store', () => {
  it('keeps the highest version of each id, whatever the order of arrival', () => {
    const store = new ItemStore(space, { maxItems: 10, maxValueBytes: 10 });
    assert.equal(store.put(item(5n, 2), 0), true);
    assert.equal(store.put(item(5n, 1), 0), false);
    assert.equal(store.put(item(5n, 2), 0), false);
    assert.equal(store.put(item(5n, 3, true), 0), true);
    assert.equal(store.get(5n)?.deleted, true);
  });

  it('refuses a new item over maxItems, and keys or values over their limits, saying which', () => {
    const store = new ItemStore(space, { maxItems: 1, maxValueBytes: 4 });
    store.put(item(1n, 1), 0);
    assert.equal(store.put(item(1n, 2), 0), true, 'an update of a held id is not a new item');
    assert.throws(
      () => store.put(item(2n, 1), 0),
      (e: unknown) => isWeftError(e, 'STORE_FULL'),
    );
    assert.throws(
      () => store.check('k', 'toolong'),
      (e: unknown) => isWeftError(e, 'TOO_LARGE'),
    );
    assert.throws(
      () => store.check('k'.repeat(1025), 'v'),
      (e: unknown) => isWeftError(e, 'TOO_LARGE'),
    );
  });

  it('ranges over (from, to] across zero, and drops tombstones after their lifetime', () => {
    const store = new ItemStore(space, { maxItems: 10, maxValueBytes: 10 });
    for (const id of [0x05n, 0x50n, 0xf0n]) store.put(item(id, 1, id === 0x50n), 0);
    const ids = new Set(store.range(0xe0n, 0x10n, 10).map((i) => i.id));
    assert.deepEqual(ids, new Set([0x05n, 0xf0n]));
    assert.equal(store.sweep(tombstoneTtlMs), 0);
    assert.equal(store.sweep(tombstoneTtlMs + 1), 1);
    assert.equal(store.get(0x50n), undefined);
  });
});
