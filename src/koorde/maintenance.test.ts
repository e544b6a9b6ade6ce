import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createPrng } from '../core/prng.ts';
import { createIdSpace, type Id } from './id-space.ts';
import {
  applyFailure,
  applyLeave,
  applyNotify,
  applyStabilize,
  applySuccessorHint,
  applyWindow,
  windowKey,
} from './maintenance.ts';
import { RoutingTable } from './routing-table.ts';
import { MaintenanceSchedule } from './schedule.ts';

const space = createIdSpace(8, 4);
const ref = (id: Id) => ({ id, address: `n${id.toString(16)}` });
const ids = (nodes: readonly { id: Id }[]) => nodes.map((n) => n.id);

function table(self: Id, successors: Id[] = [], pred?: Id): RoutingTable {
  const t = new RoutingTable(space, ref(self), { successorListLength: 3, candidatesPerHop: 3 });
  t.setSuccessors(successors.map(ref));
  if (pred !== undefined) t.predecessor = ref(pred);
  return t;
}

describe('ring maintenance (Chord stabilization reused by Koorde §3.4)', () => {
  it('stabilize adopts a node that joined between us and the successor, and notifies it', () => {
    const t = table(0x10n, [0x50n]);
    const notify = applyStabilize(t, ref(0x50n), { predecessor: ref(0x30n), successors: [ref(0x70n), ref(0x90n)] });
    assert.equal(notify?.id, 0x30n);
    assert.deepEqual(ids(t.successors), [0x30n, 0x50n, 0x70n]);
  });

  it('stabilize keeps a live successor that has no predecessor (the seed dropped it)', () => {
    const t = table(0x10n, [0x50n, 0x70n]);
    applyStabilize(t, ref(0x50n), { successors: [ref(0x70n), ref(0x10n)] });
    assert.deepEqual(ids(t.successors), [0x50n, 0x70n]);
  });

  it('stabilize ignores a reply from a node that is no longer the successor', () => {
    const t = table(0x10n, [0x30n]);
    assert.equal(applyStabilize(t, ref(0x50n), { successors: [ref(0x60n)] }), undefined);
    assert.deepEqual(ids(t.successors), [0x30n]);
  });

  it('notify accepts a closer predecessor only, and a lone node takes the notifier as successor', () => {
    const t = table(0x80n, [0x90n], 0x40n);
    assert.equal(applyNotify(t, ref(0x20n)), false);
    assert.equal(applyNotify(t, ref(0x60n)), true);
    assert.equal(t.predecessor?.id, 0x60n);
    assert.equal(applyNotify(t, ref(0x60n)), true, 'a predecessor that notifies again (it restarted) stays');
    const alone = table(0x80n);
    assert.equal(applyNotify(alone, ref(0x20n)), true);
    assert.deepEqual(ids(alone.successors), [0x20n]);
  });

  it('a joining node is taken as successor by its predecessor at once', () => {
    const t = table(0x10n, [0x50n, 0x70n]);
    applySuccessorHint(t, ref(0x90n));
    assert.deepEqual(ids(t.successors), [0x50n, 0x70n]);
    applySuccessorHint(t, ref(0x30n));
    assert.deepEqual(ids(t.successors), [0x30n, 0x50n, 0x70n]);
  });

  it('a dead successor is dropped; with none left, the nearest known node stands in', () => {
    const t = table(0x10n, [0x50n], 0xf0n);
    t.setWindow([ref(0x3an), ref(0x45n)]);
    applyFailure(t, 0x50n);
    assert.deepEqual(ids(t.successors), [0x3an, 0x45n, 0xf0n]);
    applyFailure(t, 0xf0n);
    assert.equal(t.predecessor, undefined);
  });

  it('a graceful leave splices the leaver out on both sides', () => {
    const succ = table(0x80n, [0x90n], 0x50n);
    applyLeave(succ, ref(0x50n), { predecessor: ref(0x20n), successors: [ref(0x80n)] });
    assert.equal(succ.predecessor?.id, 0x20n);
    const pred = table(0x20n, [0x50n, 0x80n], 0x10n);
    applyLeave(pred, ref(0x50n), { predecessor: ref(0x20n), successors: [ref(0x80n), ref(0x90n), ref(0xa0n)] });
    assert.deepEqual(ids(pred.successors), [0x80n, 0x90n, 0xa0n]);
  });

  it('the window: a backup, the predecessor of k·m (§4), and k nodes after it; never self', () => {
    const t = table(0x30n, [0x50n]);
    assert.equal(windowKey(t), 0xc0n);
    const owners = [0xc3n, 0xe9n, 0x10n, 0x20n, 0x28n].map(ref);
    applyWindow(t, owners, ref(0xa7n), [ref(0x90n)]);
    assert.deepEqual(ids(t.window), [0x90n, 0xa7n, 0xc3n, 0xe9n, 0x10n, 0x20n]);
    applyWindow(t, [ref(0xc3n), ref(0x30n), ref(0x40n)], ref(0xa7n));
    assert.deepEqual(ids(t.window), [0xa7n, 0xc3n]);
  });
});

describe('maintenance schedule', () => {
  it('runs each task once per interval, from a random phase', () => {
    const schedule = new MaintenanceSchedule(
      { stabilize: 1, 'check-predecessor': 2, 'fix-window': 4, sync: 8 },
      createPrng(1),
    );
    const counts = new Map<string, number>();
    for (let tick = 0; tick < 64; tick += 1) {
      for (const task of schedule.tick()) counts.set(task, (counts.get(task) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { stabilize: 64, 'check-predecessor': 32, 'fix-window': 16, sync: 8 });
  });
});
