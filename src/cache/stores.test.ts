// The byte-bounded LRU against a naive model (fast-check), the variant store
// (Vary, replacement, eviction of whole URLs), hot-key windows and the
// routing cache's arcs.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createIdSpace } from '../koorde/id-space.ts';
import { ByteLru } from './byte-lru.ts';
import { HotKeys } from './hot-keys.ts';
import { RouteCache } from './route-cache.ts';
import { VariantStore, type Variant } from './variant-store.ts';

describe('ByteLru', () => {
  it('evicts exactly what a naive list model evicts, and never exceeds its bound', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 9 }),
        bytes: fc.integer({ min: 0, max: 100 }),
      }),
      fc.record({ kind: fc.constant('touch' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const lru = new ByteLru<number>(250);
        let model: { key: number; bytes: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'set') {
            model = model.filter((e) => e.key !== o.key);
            const evictedModel: number[] = [];
            while (model.reduce((s, e) => s + e.bytes, 0) + o.bytes > 250) evictedModel.push(model.shift()!.key);
            model.push({ key: o.key, bytes: o.bytes });
            assert.deepEqual(lru.set(o.key, o.bytes), evictedModel);
          } else if (o.kind === 'touch') {
            const i = model.findIndex((e) => e.key === o.key);
            if (i >= 0) model.push(...model.splice(i, 1));
            lru.touch(o.key);
          } else {
            assert.equal(
              lru.delete(o.key),
              model.some((e) => e.key === o.key),
            );
            model = model.filter((e) => e.key !== o.key);
          }
          assert.equal(
            lru.bytes,
            model.reduce((s, e) => s + e.bytes, 0),
          );
          assert.ok(lru.bytes <= 250);
        }
      }),
      { numRuns: 300, seed: 8 },
    );
  });
});

interface TestVariant extends Variant {
  readonly name: string;
}
const variant = (name: string, bytes: number, vary: Record<string, string> = {}): TestVariant => {
  const fields = Object.keys(vary).sort();
  return { name, bytes, varyFields: fields, varyKey: fields.map((f) => `${f}:${vary[f]}\n`).join('') };
};

describe('VariantStore', () => {
  it('keeps one variant per Vary key, newest first, and picks by the request', () => {
    const store = new VariantStore<TestVariant>({ maxBytes: 1000, maxObjectBytes: 500, maxVariantsPerUrl: 2 });
    store.put('u', variant('gzip', 10, { 'accept-encoding': 'gzip' }));
    store.put('u', variant('br', 10, { 'accept-encoding': 'br' }));
    assert.equal(store.find('u', { 'accept-encoding': 'gzip' })?.name, 'gzip');
    assert.equal(store.find('u', { 'accept-encoding': 'br' })?.name, 'br');
    assert.equal(store.find('u', {}), undefined);
    store.put('u', variant('gzip2', 10, { 'accept-encoding': 'gzip' }));
    assert.equal(store.find('u', { 'accept-encoding': 'gzip' })?.name, 'gzip2');
    store.put('u', variant('id', 10, { 'accept-encoding': 'identity' }));
    assert.equal(store.find('u', { 'accept-encoding': 'br' }), undefined, 'the oldest variant went beyond the cap');
    assert.equal(store.bytes, 20);
  });

  it('refuses objects over the object limit and evicts whole URLs least recently used', () => {
    const store = new VariantStore<TestVariant>({ maxBytes: 100, maxObjectBytes: 60, maxVariantsPerUrl: 4 });
    assert.equal(store.put('big', variant('big', 61)), false);
    store.put('a', variant('a', 40));
    store.put('b', variant('b', 40));
    store.find('a', {});
    store.put('c', variant('c', 40));
    assert.equal(store.find('b', {}), undefined);
    assert.equal(store.find('a', {})?.name, 'a');
    assert.equal(store.evictions, 1);
    assert.equal(store.delete('a'), 1);
    assert.equal(store.bytes, 40);
  });
});

describe('HotKeys', () => {
  it('turns hot at the threshold within a second, and cools down after two quiet windows', () => {
    const hot = new HotKeys<string>({ thresholdPerSecond: 3, maxTracked: 10 });
    assert.equal(hot.record('u', 10_000), false);
    assert.equal(hot.record('u', 10_100), false);
    assert.equal(hot.record('u', 10_200), true);
    assert.equal(hot.isHot('u', 11_500), true, 'the previous window still counts');
    assert.equal(hot.isHot('u', 12_100), false);
  });

  it('tracks at most maxTracked keys per window', () => {
    const hot = new HotKeys<string>({ thresholdPerSecond: 1, maxTracked: 2 });
    assert.equal(hot.record('a', 0), true);
    assert.equal(hot.record('b', 0), true);
    assert.equal(hot.record('c', 0), false, 'the third key is not counted');
    assert.equal(hot.record('c', 1_000), true, 'a new window has room');
  });
});

describe('RouteCache', () => {
  const space = createIdSpace(8, 2);
  const node = (id: number) => ({ id: BigInt(id), address: `n${id}` });

  it('answers ids inside learned arcs (wrapping round zero) until they expire', () => {
    const routes = new RouteCache(space, { maxArcs: 8, ttlMs: 1000 });
    routes.learn(node(200), [node(10), node(50)], 0);
    assert.equal(routes.find(250n, 1)?.owners[0]?.address, 'n10');
    assert.equal(routes.find(5n, 1)?.owners[0]?.address, 'n10');
    assert.equal(routes.find(10n, 1)?.owners[0]?.address, 'n10');
    assert.equal(routes.find(11n, 1), undefined);
    assert.equal(routes.find(5n, 1000), undefined, 'expired');
  });

  it('lets a successor stand in for a failed owner, and forgets arcs on NOT_OWNER', () => {
    const routes = new RouteCache(space, { maxArcs: 8, ttlMs: 1000 });
    routes.learn(node(10), [node(50), node(90)], 0);
    routes.dropNode('n50');
    assert.deepEqual(routes.find(30n, 1), { owners: [node(90)], standIn: true });
    routes.forget(30n);
    assert.equal(routes.find(30n, 1), undefined);
  });

  it('replaces overlapping arcs with newer knowledge', () => {
    const routes = new RouteCache(space, { maxArcs: 8, ttlMs: 1000 });
    routes.learn(node(10), [node(50)], 0);
    routes.learn(node(30), [node(50)], 1);
    assert.equal(routes.find(20n, 2), undefined, 'a node joined at 30 and took (10, 30]');
    assert.equal(routes.find(40n, 2)?.owners[0]?.address, 'n50');
  });
});
