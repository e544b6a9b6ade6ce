import { strict as assert } from 'node:assert';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { isWeftError } from '../core/errors.ts';
import { GrpcTransport } from './grpc-transport.ts';
import { defaultTransportLimits, type TransportLimits } from './transport.ts';

/** What the contract suite does not cover: links and gRPC sharing the port, a bad link, back-off, a full queue. */
describe('GrpcTransport message links', () => {
  const opened: { close(): unknown }[] = [];
  after(async () => {
    for (const thing of opened) await thing.close();
  });
  const transport = async (
    nodeId: string,
    extra: { limits?: TransportLimits; onMalformedLink?: (error: unknown) => void } = {},
  ): Promise<GrpcTransport> => {
    const made = await GrpcTransport.listen({
      host: '127.0.0.1',
      port: 0,
      identity: { nodeId, version: '1' },
      ...extra,
    });
    opened.push(made);
    return made;
  };

  it('a connection that is neither a link nor HTTP/2 is closed, and the port goes on serving', async () => {
    const malformed: unknown[] = [];
    const b = await transport('b', { onMalformedLink: (error) => malformed.push(error) });
    const [host, port] = [b.address.split(':')[0]!, Number(b.address.split(':')[1])];
    for (const garbage of ['WEFTXXXXjunk', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n']) {
      const socket = net.connect({ host, port });
      socket.on('error', () => undefined);
      socket.resume(); // read what comes back, to see the end
      socket.write(garbage);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    assert.equal(malformed.length, 1, 'the bad hello is reported; the HTTP/1 request is HTTP/2 refusing it');
    assert.ok(isWeftError(malformed[0], 'DECODE_FAILED'));
    const a = await transport('a');
    assert.equal((await a.ping(b.address, { timeoutMs: 2_000 })).nodeId, 'b');
    const got = new Promise<string>((resolve) =>
      b.onMessage('raft', (payload) => resolve(Buffer.from(payload).toString())),
    );
    assert.equal(a.send(b.address, 'raft', Buffer.from('still here')), true);
    assert.equal(await got, 'still here');
  });

  it('links and gRPC work on an IPv6 loopback address ("[::1]:port")', async () => {
    const a = await GrpcTransport.listen({ host: '::1', port: 0, identity: { nodeId: 'a', version: '1' } });
    const b = await GrpcTransport.listen({ host: '::1', port: 0, identity: { nodeId: 'b', version: '1' } });
    opened.push(a, b);
    assert.match(b.address, /^\[::1\]:\d+$/);
    const got = new Promise<string>((resolve) =>
      b.onMessage('raft', (payload, { from }) => resolve(`${Buffer.from(payload).toString()} from ${from}`)),
    );
    assert.equal(a.send(b.address, 'raft', Buffer.from('hello')), true);
    assert.equal(await got, `hello from ${a.address}`);
    assert.equal((await a.ping(b.address, { timeoutMs: 2_000 })).nodeId, 'b');
  });

  it('after a failed connection, messages to that peer are dropped for a while, not queued', async () => {
    const a = await transport('a');
    const lost = new Promise<string>((resolve) => a.onPeerLost(resolve));
    assert.equal(a.send('127.0.0.1:1', 'raft', Buffer.from('x')), true, 'the first opens a link');
    assert.equal(await lost, '127.0.0.1:1');
    assert.equal(a.send('127.0.0.1:1', 'raft', Buffer.from('x')), false, 'backing off');
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(a.send('127.0.0.1:1', 'raft', Buffer.from('x')), true, 'tried again after the back-off');
  });

  it('a message to an address with no usable port is dropped, not thrown', async () => {
    const a = await transport('a');
    for (const address of ['no-port', '127.0.0.1:70000']) {
      assert.equal(a.send(address, 'raft', Buffer.from('x')), false);
    }
  });

  it('a peer that reads nothing fills only its own queue; send then returns false', async () => {
    const limits = { ...defaultTransportLimits, maxQueuedMessagesPerPeer: 4 };
    const a = await transport('a', { limits });
    // Accepts connections and never reads them, like a stuck process.
    const held: net.Socket[] = [];
    const stuck = net.createServer({ pauseOnConnect: true }, (socket) => held.push(socket));
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    opened.push({
      close: () => {
        for (const socket of held) socket.destroy();
        return new Promise((resolve) => stuck.close(resolve));
      },
    });
    const stuckAddress = `127.0.0.1:${(stuck.address() as net.AddressInfo).port}`;
    const big = new Uint8Array(4 * 1024 * 1024);
    let accepted = 0;
    for (let i = 0; i < 64 && a.send(stuckAddress, 'raft', big); i += 1) accepted += 1;
    assert.ok(accepted >= 4 && accepted < 64, `sends accepted before the queue was full: ${accepted}`);
    const b = await transport('b');
    const got = new Promise<void>((resolve) => b.onMessage('raft', () => resolve()));
    assert.equal(a.send(b.address, 'raft', Buffer.from('other peer')), true);
    await got;
  });
});
