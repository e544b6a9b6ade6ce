import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError, WeftError } from '../../core/errors.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';
import {
  decodeProposals,
  encodeProposals,
  ProposalForwarder,
  resendAfterMs,
  type ForwardRoute,
} from './proposal-forwarder.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function applied(requestId: number, revision: number): ApplyResult {
  return { index: revision, requestId, revision, outcome: { status: 'ok', response: undefined as never }, events: [] };
}

/** A route whose leader the test sets, recording what is sent and proposed. */
function fakeRoute(leader: string): ForwardRoute & { leaderIs: string; sent: string[][]; proposed: string[][] } {
  const route = {
    self: 'n1',
    leaderIs: leader,
    sent: [] as string[][],
    proposed: [] as string[][],
    leader: () => route.leaderIs,
    address: (member: string) => `${member}:2380`,
    send: (address: string, payload: Uint8Array) => {
      route.sent.push([address, ...decodeProposals(payload).map(text)]);
      return true;
    },
    proposeHere: (commands: readonly Uint8Array[]) => {
      route.proposed.push(commands.map(text));
      return true;
    },
  };
  return route;
}

describe('ProposalForwarder', () => {
  it('sends what is forwarded in one turn as one message, and settles each call from its own apply', async () => {
    const route = fakeRoute('n2');
    const forwarder = new ProposalForwarder(route);
    const a = forwarder.forward(11, bytes('a'), { timeoutMs: 5_000 });
    const b = forwarder.forward(12, bytes('b'), { timeoutMs: 5_000 });
    await nextTurn();
    assert.deepEqual(route.sent, [['n2:2380', 'a', 'b']]);
    forwarder.onApplied([applied(99, 1), applied(12, 2), applied(11, 3)]);
    assert.equal((await a).revision, 3);
    assert.equal((await b).revision, 2);
  });

  it('waits while there is no leader, and sends to the next leader, or proposes as that leader', async () => {
    const route = fakeRoute('');
    const forwarder = new ProposalForwarder(route);
    const call = forwarder.forward(7, bytes('x'), { timeoutMs: 5_000 });
    await nextTurn();
    assert.deepEqual(route.sent, []);
    route.leaderIs = 'n1';
    forwarder.onLeaderChange();
    await nextTurn();
    assert.deepEqual(route.proposed, [['x']]);
    forwarder.onApplied([applied(7, 4)]);
    assert.equal((await call).revision, 4);
  });

  it('sends again to a new leader, and to the same one after resendAfterMs', async () => {
    const route = fakeRoute('n2');
    const forwarder = new ProposalForwarder(route);
    const call = forwarder.forward(5, bytes('p'), { timeoutMs: 5_000 });
    await nextTurn();
    forwarder.sweep(performance.now() + resendAfterMs / 2);
    assert.equal(route.sent.length, 1, 'not resent early');
    forwarder.sweep(performance.now() + resendAfterMs);
    assert.deepEqual(route.sent.at(-1), ['n2:2380', 'p']);
    route.leaderIs = 'n3';
    forwarder.onLeaderChange();
    await nextTurn();
    assert.deepEqual(route.sent.at(-1), ['n3:2380', 'p']);
    forwarder.onApplied([applied(5, 9)]);
    assert.equal((await call).revision, 9);
  });

  it('keeps what could not be queued and sends it at the next sweep', async () => {
    const route = fakeRoute('n2');
    let full = true;
    const send = route.send;
    route.send = (address, payload) => !full && send(address, payload);
    const forwarder = new ProposalForwarder(route);
    const call = forwarder.forward(3, bytes('q'), { timeoutMs: 5_000 });
    await nextTurn();
    assert.deepEqual(route.sent, []);
    full = false;
    forwarder.sweep();
    assert.deepEqual(route.sent, [['n2:2380', 'q']]);
    forwarder.onApplied([applied(3, 1)]);
    await call;
  });

  it('times a call out, stops resending it, and fails the rest when closed', async () => {
    const route = fakeRoute('n2');
    const forwarder = new ProposalForwarder(route);
    await assert.rejects(forwarder.forward(1, bytes('late'), { timeoutMs: 5 }), (e) => isWeftError(e, 'TIMEOUT'));
    // Sent once, or not at all when the machine let the timeout fire before the batch went out.
    const sentBefore = route.sent.length;
    forwarder.sweep(performance.now() + resendAfterMs);
    assert.equal(route.sent.length, sentBefore, 'a call whose caller gave up is not sent again');
    const pending = forwarder.forward(2, bytes('open'), { timeoutMs: 5_000 });
    forwarder.close(new WeftError('ABORTED', 'stopping'));
    await assert.rejects(pending, (e) => isWeftError(e, 'ABORTED'));
    await assert.rejects(forwarder.forward(3, bytes('after'), { timeoutMs: 5_000 }), (e) => isWeftError(e, 'ABORTED'));
  });
});

describe('forwarded proposal batches', () => {
  it('round-trip, and a malformed one is refused with DECODE_FAILED', () => {
    const commands = [bytes(''), bytes('one'), new Uint8Array(300).fill(7)];
    assert.deepEqual(decodeProposals(encodeProposals(commands)), commands);
    for (const bad of [new Uint8Array([5, 1]), new Uint8Array([0xff]), Uint8Array.of(...encodeProposals(commands), 0)])
      assert.throws(
        () => decodeProposals(bad),
        (e) => isWeftError(e, 'DECODE_FAILED'),
      );
  });
});
