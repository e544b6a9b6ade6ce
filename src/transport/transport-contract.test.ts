import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { isWeftError, WeftError } from '../core/errors.ts';
import { GrpcTransport } from './grpc-transport.ts';
import { MemoryNetwork } from './memory-transport.ts';
import type { PeerTransport } from './transport.ts';

/**
 * One contract, two implementations: whatever Raft and the DHT may rely on
 * must hold for the in-memory transport exactly as for gRPC.
 */
interface Pair {
  a: PeerTransport;
  b: PeerTransport;
  unreachable: string;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

function contract(name: string, makePair: () => Promise<Pair>): void {
  describe(`peer transport contract: ${name}`, () => {
    const opened: PeerTransport[] = [];
    const pair = async (): Promise<Pair> => {
      const made = await makePair();
      opened.push(made.a, made.b);
      return made;
    };
    after(async () => {
      await Promise.all(opened.map((t) => t.close()));
    });

    it('ping returns the peer id and version', async () => {
      const { a, b } = await pair();
      const result = await a.ping(b.address, { timeoutMs: 2_000 });
      assert.equal(result.nodeId, 'b');
      assert.equal(result.version, '1.2.3');
      assert.ok(result.rttMs >= 0);
    });

    it('request reaches the handler with the caller address and returns its reply', async () => {
      const { a, b } = await pair();
      b.handle('echo', (payload, context) => bytes(`${text(payload)} from ${context.from}`));
      const reply = await a.request(b.address, 'echo', bytes('hi'), { timeoutMs: 2_000 });
      assert.equal(text(reply), `hi from ${a.address}`);
    });

    it('an unknown method is UNKNOWN_METHOD', async () => {
      const { a, b } = await pair();
      await assert.rejects(a.request(b.address, 'nope', bytes(''), { timeoutMs: 2_000 }), (e) =>
        isWeftError(e, 'UNKNOWN_METHOD'),
      );
    });

    it('a typed error thrown by the handler arrives with its code and message', async () => {
      const { a, b } = await pair();
      b.handle('busy', () => {
        throw new WeftError('QUEUE_FULL', 'too busy, retry later');
      });
      await assert.rejects(
        a.request(b.address, 'busy', bytes(''), { timeoutMs: 2_000 }),
        (e) => isWeftError(e, 'QUEUE_FULL') && e.message.includes('too busy'),
      );
    });

    it('any other error thrown by the handler is REMOTE_ERROR with its message', async () => {
      const { a, b } = await pair();
      b.handle('broken', () => {
        throw new Error('disk on fire');
      });
      await assert.rejects(
        a.request(b.address, 'broken', bytes(''), { timeoutMs: 2_000 }),
        (e) => isWeftError(e, 'REMOTE_ERROR') && e.message.includes('disk on fire'),
      );
    });

    it('a slow handler times out with TIMEOUT', async () => {
      const { a, b } = await pair();
      b.handle('slow', () => new Promise((resolve) => setTimeout(() => resolve(bytes('late')), 500)));
      await assert.rejects(a.request(b.address, 'slow', bytes(''), { timeoutMs: 50 }), (e) =>
        isWeftError(e, 'TIMEOUT'),
      );
    });

    it('an aborted request rejects with ABORTED', async () => {
      const { a, b } = await pair();
      b.handle('hang', () => new Promise((resolve) => setTimeout(() => resolve(bytes('')), 500)));
      const controller = new AbortController();
      const call = a.request(b.address, 'hang', bytes(''), { timeoutMs: 2_000, signal: controller.signal });
      controller.abort();
      await assert.rejects(call, (e) => isWeftError(e, 'ABORTED'));
    });

    it('one-way messages arrive in order', async () => {
      const { a, b } = await pair();
      const got: string[] = [];
      const done = new Promise<void>((resolve) => {
        b.onMessage('raft', (payload, context) => {
          assert.equal(context.from, a.address);
          got.push(text(payload));
          if (got.length === 100) resolve();
        });
      });
      for (let i = 0; i < 100; i += 1) assert.equal(a.send(b.address, 'raft', bytes(String(i))), true);
      await done;
      assert.deepEqual(
        got,
        Array.from({ length: 100 }, (_, i) => String(i)),
      );
    });

    it('reports a peer lost when its process goes away after messages were sent to it', async () => {
      const { a, b } = await pair();
      const delivered = new Promise<void>((resolve) => b.onMessage('raft', () => resolve()));
      const lost = new Promise<string>((resolve) => a.onPeerLost(resolve));
      assert.equal(a.send(b.address, 'raft', bytes('hello')), true);
      await delivered;
      await b.close();
      assert.equal(await lost, b.address);
    });

    it('reports a peer lost when it goes away with nothing in flight to it', async () => {
      // A follower whose leader died has nothing to send it: the hint must
      // come from the connection itself, not from a failed write.
      const { a, b } = await pair();
      await a.ping(b.address, { timeoutMs: 5_000 });
      const lost = new Promise<string>((resolve) => a.onPeerLost(resolve));
      await b.close();
      assert.equal(await lost, b.address);
    });

    it('reports a peer lost when a peer that was sending to it goes away', async () => {
      const { a, b } = await pair();
      const delivered = new Promise<void>((resolve) => b.onMessage('raft', () => resolve()));
      const lost = new Promise<string>((resolve) => b.onPeerLost(resolve));
      assert.equal(a.send(b.address, 'raft', bytes('hello')), true);
      await delivered;
      await a.close();
      assert.equal(await lost, a.address);
    });

    it('an unreachable peer is PEER_UNREACHABLE or TIMEOUT, never a hang', async () => {
      const { a, unreachable } = await pair();
      await assert.rejects(
        a.ping(unreachable, { timeoutMs: 1_000 }),
        (e) => isWeftError(e, 'PEER_UNREACHABLE') || isWeftError(e, 'TIMEOUT'),
      );
    });
  });
}

let memoryCount = 0;
contract('memory', async () => {
  const network = new MemoryNetwork();
  memoryCount += 1;
  return {
    a: network.join(`a${memoryCount}:1`, { nodeId: 'a', version: '1.2.3' }),
    b: network.join(`b${memoryCount}:1`, { nodeId: 'b', version: '1.2.3' }),
    unreachable: 'nowhere:1',
  };
});

contract('grpc', async () => {
  const a = await GrpcTransport.listen({ host: '127.0.0.1', port: 0, identity: { nodeId: 'a', version: '1.2.3' } });
  const b = await GrpcTransport.listen({ host: '127.0.0.1', port: 0, identity: { nodeId: 'b', version: '1.2.3' } });
  // Port 1 on loopback: nothing listens there, so connections are refused.
  return { a, b, unreachable: '127.0.0.1:1' };
});
