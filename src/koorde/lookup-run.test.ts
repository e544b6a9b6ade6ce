import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LookupRun } from './lookup-run.ts';
import type { NodeRef } from './routing-table.ts';

const n = (id: number): NodeRef => ({ id: BigInt(id), address: `a${id}` });
const walk = { imaginary: 0x90n, shiftedKey: 0n, stepsLeft: 0 };

describe('lookup run (origin side)', () => {
  it('asks the named owner to confirm, and is done when it does', () => {
    const run = new LookupRun(0x95n, n(0x10));
    run.accept({ kind: 'owner', owners: [n(0xa0), n(0xb0)], predecessor: n(0x90), localSteps: 0 }, false);
    const ask = run.next();
    assert.ok(ask.kind === 'ask');
    assert.equal(ask.to.id, 0xa0n);
    assert.equal(ask.request.confirmAfter, 0x90n);
    run.accept({ kind: 'owner', owners: [n(0xa0), n(0xb0)], predecessor: n(0x90), localSteps: 0 });
    const done = run.next();
    assert.ok(done.kind === 'done');
    assert.equal(done.owners[0]?.id, 0xa0n);
    assert.deepEqual([run.hops, run.confirmations], [0, 1]);
  });

  it('when the named owner is dead, asks the named predecessor to route again, avoiding it', () => {
    const run = new LookupRun(0x95n, n(0x10));
    run.accept({ kind: 'owner', owners: [n(0xa0), n(0xb0)], predecessor: n(0x90), localSteps: 0 }, false);
    assert.equal(run.next().kind, 'ask');
    run.fail();
    const reroute = run.next();
    assert.ok(reroute.kind === 'ask');
    assert.equal(reroute.to.id, 0x90n);
    assert.deepEqual(reroute.request, { key: 0x95n, avoid: [0xa0n] });
  });

  it('never asks the same node the same thing twice, and gives up with no-route', () => {
    const run = LookupRun.through(0x95n, [n(0x20)]);
    assert.equal(run.next().kind, 'ask');
    run.accept({ kind: 'next', candidates: [n(0x30)], walk, localSteps: 0 });
    assert.equal(run.next().kind, 'ask');
    run.accept({ kind: 'next', candidates: [n(0x30)], walk, localSteps: 0 });
    assert.deepEqual(run.next(), { kind: 'failed', reason: 'no-route' });
  });

  it('stops at the attempt limit', () => {
    const run = LookupRun.through(0x95n, [n(0x20)], { maxAttempts: 3 });
    for (let i = 0; i < 3; i += 1) {
      assert.equal(run.next().kind, 'ask');
      run.accept({ kind: 'next', candidates: [n(0x21 + i)], walk, localSteps: 0 });
    }
    assert.deepEqual(run.next(), { kind: 'failed', reason: 'attempt-limit' });
    assert.equal(run.hops, 3);
  });

  it('when every path failed, the origin routes again around the dead nodes', () => {
    const run = new LookupRun(0x95n, n(0x10));
    run.accept({ kind: 'next', candidates: [n(0x50)], walk, localSteps: 0 }, false);
    assert.equal(run.next().kind, 'ask');
    run.fail();
    const again = run.next();
    assert.ok(again.kind === 'ask');
    assert.equal(again.to.id, 0x10n);
    assert.deepEqual(again.request.avoid, [0x50n]);
  });
});
