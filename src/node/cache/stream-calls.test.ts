// Request/response over one-way message streams, on the in-memory network:
// answers and typed errors come back, a peer that goes away fails its calls
// at once, a lost answer ends at the deadline, and stopping aborts the rest.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isWeftError, WeftError } from '../../core/errors.ts';
import { MemoryNetwork } from '../../transport/memory-transport.ts';
import { StreamCalls } from './stream-calls.ts';

const text = (value: string): Uint8Array => Buffer.from(value);
const read = (payload: Uint8Array): string => Buffer.from(payload).toString();

function pair(serve: (payload: Uint8Array, from: string) => Uint8Array | Promise<Uint8Array>) {
  const network = new MemoryNetwork();
  const a = network.join('a:1', { nodeId: 'a', version: 't' });
  const b = network.join('b:1', { nodeId: 'b', version: 't' });
  const caller = new StreamCalls(a, 'test', () => text('unused'));
  new StreamCalls(b, 'test', serve);
  return { network, a, b, caller };
}

describe('StreamCalls', () => {
  it('answers each call, concurrent ones by their own id, with the caller address', async () => {
    const { caller } = pair(async (payload, from) => text(`${read(payload)} from ${from}`));
    const answers = await Promise.all(['x', 'y', 'z'].map((v) => caller.call('b:1', text(v), 1000)));
    assert.deepEqual(answers.map(read), ['x from a:1', 'y from a:1', 'z from a:1']);
  });

  it('carries a typed error back with its code', async () => {
    const { caller } = pair(() => {
      throw new WeftError('NOT_OWNER', 'look it up again');
    });
    await assert.rejects(caller.call('b:1', text('q'), 1000), (e: unknown) => isWeftError(e, 'NOT_OWNER'));
  });

  it('fails calls to a peer that went away at once, not at the deadline', async () => {
    const { b, caller } = pair(() => new Promise<Uint8Array>(() => undefined));
    const call = caller.call('b:1', text('q'), 60_000);
    await b.close();
    // A call that waited for its deadline would fail with TIMEOUT, a minute later.
    await assert.rejects(call, (e: unknown) => isWeftError(e, 'PEER_UNREACHABLE'));
  });

  it('ends a call whose answer never comes at its deadline, and aborts the rest on close', async () => {
    const { caller } = pair(() => new Promise<Uint8Array>(() => undefined));
    await assert.rejects(caller.call('b:1', text('q'), 50), (e: unknown) => isWeftError(e, 'TIMEOUT'));
    const pending = caller.call('b:1', text('q'), 60_000);
    caller.close();
    await assert.rejects(pending, (e: unknown) => isWeftError(e, 'ABORTED'));
  });
});
