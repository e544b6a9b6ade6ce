import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrng } from '../core/prng.ts';
import { raftConfig } from './config.ts';
import type { Message } from './messages.ts';
import { RaftNode } from './raft-node.ts';
import { emptyHardState } from './types.ts';

const ids = ['a', 'b', 'c'];

function boot(id: string): RaftNode {
  return new RaftNode({
    config: raftConfig({ id }),
    prng: createPrng(ids.indexOf(id) + 1),
    hardState: emptyHardState,
    snapshot: { index: 0, term: 0, conf: { voters: ids, learners: [] } },
    entries: [],
  });
}

/** Run every node's Readys (persisting instantly) and deliver their messages until all is quiet. */
function settle(nodes: Map<string, RaftNode>): void {
  for (let round = 0; round < 100; round += 1) {
    const inFlight: Message[] = [];
    for (const node of nodes.values()) {
      while (node.hasReady()) {
        const ready = node.ready();
        inFlight.push(...ready.messages);
        node.advance(ready);
      }
    }
    if (inFlight.length === 0) return;
    for (const m of inFlight) nodes.get(m.to)?.step(m);
  }
  throw new Error('the nodes did not settle');
}

describe('RaftNode.takeLeaderMessages', () => {
  it("hands out a leader's heartbeats while its previous Ready is still being persisted", () => {
    const nodes = new Map(ids.map((id) => [id, boot(id)]));
    const a = nodes.get('a')!;
    a.campaign();
    settle(nodes);
    assert.equal(a.role, 'leader');

    a.propose([new TextEncoder().encode('x')]);
    const persisting = a.ready(); // the driver is writing this one to disk
    assert.equal(persisting.entries.length, 1);
    a.tick(); // a heartbeat interval passes meanwhile

    const early = a.takeLeaderMessages();
    assert.deepEqual(early.map((m) => `${m.type}->${m.to}`).sort(), ['heartbeat->b', 'heartbeat->c']);
    assert.deepEqual(a.takeLeaderMessages(), [], 'taken once');
    a.advance(persisting);
    const next = a.ready();
    assert.equal(
      next.messages.some((m) => m.type === 'heartbeat'),
      false,
      'the next Ready does not send them again',
    );
  });

  it('hands a follower nothing: its messages promise durable state', () => {
    const nodes = new Map(ids.map((id) => [id, boot(id)]));
    nodes.get('a')!.campaign();
    settle(nodes);
    const b = nodes.get('b')!;
    assert.equal(b.role, 'follower');
    b.tick();
    assert.deepEqual(b.takeLeaderMessages(), []);
  });
});

describe('RaftNode snapshots', () => {
  it('lets a follower catch up from a newer snapshot than the one Raft named, as the driver sends', () => {
    const nodes = new Map(ids.map((id) => [id, boot(id)]));
    const [a, c] = [nodes.get('a')!, nodes.get('c')!];
    const up = new Map([...nodes].filter(([id]) => id !== 'c'));
    a.campaign();
    settle(up);
    assert.equal(a.role, 'leader');
    const propose = (count: number): void => {
      for (let i = 0; i < count; i += 1) a.propose([new TextEncoder().encode(`w${i}`)]);
      settle(up);
    };
    propose(5);
    const named = a.appliedSnapshotMeta();
    propose(5);
    const newer = a.appliedSnapshotMeta();
    assert.ok(newer.index > named.index);
    a.compact(named, named.index + 1); // c's entries are gone: it needs a snapshot
    propose(3);

    // c is back. The driver sends a file made at a later applied index than Raft's snapshot.
    const installed: number[] = [];
    const appliedByC: number[] = [];
    for (let round = 0; round < 30; round += 1) {
      a.tick(); // heartbeats find c
      const inFlight: Message[] = [];
      for (const [id, node] of nodes) {
        while (node.hasReady()) {
          const ready = node.ready();
          if (id === 'c') {
            if (ready.snapshot !== undefined) installed.push(ready.snapshot.index);
            appliedByC.push(...ready.committedEntries.map((e) => e.index));
          }
          inFlight.push(...ready.messages);
          node.advance(ready);
        }
      }
      for (const m of inFlight) {
        if (m.type === 'snap') {
          assert.equal(m.snapshot.index, named.index, 'Raft names its own snapshot');
          c.step({ ...m, snapshot: newer });
          a.reportSnapshot('c', true);
        } else nodes.get(m.to)?.step(m);
      }
    }
    assert.deepEqual(installed, [newer.index]);
    assert.equal(appliedByC[0], newer.index + 1, 'c applies only what follows the snapshot it got');
    assert.equal(c.status().commit, a.status().commit);
    assert.equal(c.status().lastIndex, a.status().lastIndex);
    assert.equal(a.progressOf('c')?.match, a.status().lastIndex, 'the leader knows c has everything');
  });
});
