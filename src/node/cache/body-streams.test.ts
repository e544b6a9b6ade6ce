// Bodies sent between two nodes on the in-memory transport as runs of
// messages: in order and whole, paced by the receiver (no more than a
// window of chunks ahead of what it read, plus the stream's own buffer), cancelled when the receiver
// leaves, and failed, never ended, when the sender is lost mid-body.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { after, beforeEach, describe, it } from 'node:test';
import { isWeftError } from '../../core/errors.ts';
import { MemoryNetwork, type MemoryTransport } from '../../transport/memory-transport.ts';
import { BodyStreams, windowChunks } from './body-streams.ts';

let network: MemoryNetwork;
let owner: MemoryTransport;
let entry: MemoryTransport;
let sending: BodyStreams;
let receiving: BodyStreams;

const chunkOf = (i: number): Buffer => Buffer.alloc(1000, i % 251);

/** A source of `count` chunks that records how many were taken from it. */
function source(count: number): { body: Readable; taken: () => number } {
  let taken = 0;
  const body = new Readable({
    read() {
      if (taken === count) this.push(null);
      else this.push(chunkOf(taken++));
    },
    highWaterMark: 1,
  });
  return { body, taken: () => taken };
}

/** Let queued messages and stream events run (bounded). */
async function drain(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await tick();
}

beforeEach(() => {
  network = new MemoryNetwork();
  owner = network.join('owner:1', { nodeId: 'o', version: 't' });
  entry = network.join('entry:1', { nodeId: 'e', version: 't' });
  sending = new BodyStreams(owner, 'b', 5_000);
  receiving = new BodyStreams(entry, 'b', 5_000);
});
after(async () => {
  await owner.close();
  await entry.close();
});

describe('bodies between nodes', () => {
  it('arrive whole and in order', async () => {
    const { body } = source(200);
    const id = sending.send(entry.address, body);
    const got = receiving.receive(owner.address, id);
    const hash = createHash('sha256');
    for await (const chunk of got) hash.update(chunk as Buffer);
    const expected = createHash('sha256');
    for (let i = 0; i < 200; i += 1) expected.update(chunkOf(i));
    assert.equal(hash.digest('hex'), expected.digest('hex'));
    assert.deepEqual(sending.counts, { outgoing: 0, incoming: 0 });
    assert.deepEqual(receiving.counts, { outgoing: 0, incoming: 0 });
  });

  it('a receiver that does not read holds the sender to a window of chunks', async () => {
    const { body, taken } = source(500);
    const id = sending.send(entry.address, body);
    const got = receiving.receive(owner.address, id);
    await drain();
    // The window in flight, plus what the stream itself buffers before it stops asking for more.
    const bound = windowChunks * 1000 + got.readableHighWaterMark;
    assert.ok(got.readableLength <= bound, `buffered ${got.readableLength} bytes`);
    assert.ok(taken() < 500 / 4, `the source was read ahead only a little: ${taken()} chunks`);
    let bytes = 0;
    for await (const chunk of got) bytes += (chunk as Buffer).length;
    assert.equal(bytes, 500 * 1000);
  });

  it('a receiver that leaves stops the sender', async () => {
    const { body } = source(500);
    const id = sending.send(entry.address, body);
    const got = receiving.receive(owner.address, id);
    await drain();
    got.destroy();
    await drain();
    assert.ok(body.destroyed, 'the source (the origin fetch) was closed');
    assert.equal(sending.counts.outgoing, 0);
  });

  it('a sender lost mid-body fails the body instead of ending it', async () => {
    const { body } = source(500);
    const id = sending.send(entry.address, body);
    const got = receiving.receive(owner.address, id);
    let bytes = 0;
    let closed = false;
    const failure = (async () => {
      for await (const chunk of got) {
        bytes += (chunk as Buffer).length;
        if (bytes >= 3000 && !closed) {
          closed = true;
          await owner.close();
        }
      }
    })();
    await assert.rejects(failure, (e: unknown) => isWeftError(e, 'PEER_UNREACHABLE'));
    assert.ok(bytes < 500 * 1000);
    assert.equal(receiving.counts.incoming, 0);
  });
});
