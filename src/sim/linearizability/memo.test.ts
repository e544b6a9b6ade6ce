// The memoization cache must be exact: a configuration is skipped only if the
// very same set of operations led to the very same state before.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AssertionFailure } from '../../core/assert.ts';
import { OperationSet, SeenConfigurations } from './memo.ts';

describe('memoization', () => {
  it('hashes a set by its members, whatever the order they were added and removed in', () => {
    const a = new OperationSet(100);
    const b = new OperationSet(100);
    for (const index of [3, 64, 99]) a.add(index);
    for (const index of [99, 5, 3, 64]) b.add(index);
    b.remove(5);
    assert.equal(a.hash(), b.hash());
    assert.ok(a.has(64) && !a.has(5));
    b.remove(99);
    assert.notEqual(a.hash(), b.hash());
  });

  it('refuses to add a member twice or remove a missing one', () => {
    const set = new OperationSet(10);
    set.add(1);
    assert.throws(() => set.add(1), AssertionFailure);
    assert.throws(() => set.remove(2), AssertionFailure);
    assert.throws(() => set.has(10), AssertionFailure);
  });

  it('reports a configuration as new once, keyed by both the completed set and the state', () => {
    const seen = new SeenConfigurations();
    const completed = new OperationSet(40);
    const unknown = new OperationSet(3);
    completed.add(33);
    assert.equal(seen.visit(completed, unknown, 's1'), true);
    assert.equal(seen.visit(completed, unknown, 's1'), false);
    assert.equal(seen.visit(completed, unknown, 's2'), true);
    completed.add(0);
    assert.equal(seen.visit(completed, unknown, 's1'), true);
    completed.remove(0);
    assert.equal(seen.visit(completed, unknown, 's1'), false);
  });

  it('skips a configuration with more unknown-outcome operations placed than one already reached', () => {
    const seen = new SeenConfigurations();
    const completed = new OperationSet(4);
    const unknown = new OperationSet(4);
    unknown.add(1);
    assert.equal(seen.visit(completed, unknown, 's'), true);
    unknown.add(2);
    assert.equal(seen.visit(completed, unknown, 's'), false, '{1, 2} is subsumed by {1}');
    unknown.remove(1);
    assert.equal(seen.visit(completed, unknown, 's'), true, '{2} is not');
    unknown.remove(2);
    assert.equal(seen.visit(completed, unknown, 's'), true, '{} is not, and now subsumes both');
    for (const member of [1, 2, 3]) unknown.add(member);
    assert.equal(seen.visit(completed, unknown, 's'), false);
  });
});
