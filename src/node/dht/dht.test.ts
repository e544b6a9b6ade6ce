import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { isWeftError } from '../../core/errors.ts';
import { RingOracle } from '../../sim/koorde/ring.ts';
import { MemoryNetwork } from '../../transport/memory-transport.ts';
import { finalizeNodeConfig, nodeConfigSchema, type NodeConfig } from '../config.ts';
import { resolveConfig } from '../../core/config-schema.ts';
import { Dht } from './dht.ts';

const silent = pino({ level: 'silent' });

function configFor(index: number, count: number): NodeConfig {
  const peers = Array.from({ length: count }, (_, i) => `m${i}=mem${i}:1`).join(',');
  const flags = { id: `m${index}`, peers, 'dht-stabilize-ms': '20', 'dht-rpc-timeout-ms': '200', 'http-port': '9' };
  return finalizeNodeConfig(resolveConfig(nodeConfigSchema, { flags, env: {}, file: {} }));
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every member's successor is the next live id: the ring has converged. */
function converged(nodes: readonly Dht[]): boolean {
  const oracle = new RingOracle(nodes.map((n) => BigInt(`0x${n.routingTable().self.id}`)));
  return nodes.every((n) => {
    const table = n.routingTable();
    const self = BigInt(`0x${table.self.id}`);
    return table.joined && table.successors[0]?.id === oracle.after(self, 1)[0]?.toString(16).padStart(16, '0');
  });
}

/** `count` members on one in-memory network, started and converged. */
async function startRing(count: number) {
  const network = new MemoryNetwork();
  const transports = Array.from({ length: count }, (_, i) =>
    network.join(`mem${i}:1`, { nodeId: `m${i}`, version: 't' }),
  );
  const nodes = transports.map((t, i) => new Dht(t, configFor(i, count), silent));
  for (const node of nodes) node.start();
  await until('the ring converges', () => converged(nodes));
  return { network, transports, nodes };
}

describe('DHT role over the in-memory transport', () => {
  it('forms one ring, answers as the oracle does, keeps keys through two crashes, a leave and a join', async () => {
    const count = 8;
    const { network, transports, nodes } = await startRing(count);

    const oracle = new RingOracle(nodes.map((n) => BigInt(`0x${n.routingTable().self.id}`)));
    for (let i = 0; i < 40; i += 1) {
      const key = `key-${i}`;
      const found = await nodes[i % count]!.lookup(nodes[0]!.idOf(key));
      assert.equal(found.owners[0]?.id, oracle.successorOf(nodes[0]!.idOf(key)), key);
      const written = await nodes[(i + 3) % count]!.put(key, `value-${i}`);
      assert.ok(written.replicas >= 1, `${key} has ${written.replicas} replicas`);
    }
    const read = await nodes[5]!.get('key-7');
    assert.equal(read.item.value, 'value-7');
    await nodes[2]!.delete('key-7');
    await assert.rejects(nodes[6]!.get('key-7'), (e: unknown) => isWeftError(e, 'NOT_FOUND'));
    await assert.rejects(nodes[6]!.get('never-written'), (e: unknown) => isWeftError(e, 'NOT_FOUND'));

    await transports[1]!.close();
    await transports[4]!.close();
    const alive = nodes.filter((_, i) => i !== 1 && i !== 4);
    await until('the ring re-forms without the crashed nodes', () => converged(alive));
    for (let i = 0; i < 40; i += 1) {
      if (i === 7) continue;
      const got = await alive[i % alive.length]!.get(`key-${i}`);
      assert.equal(got.item.value, `value-${i}`);
    }

    // A graceful leave hands the keys over; a new node takes over its keys on joining.
    await alive[0]!.stop();
    await transports[0]!.close();
    const newcomer = new Dht(network.join('mem8:1', { nodeId: 'm8', version: 't' }), configFor(8, count), silent);
    newcomer.start();
    const members = [...alive.slice(1), newcomer];
    await until('the ring takes the newcomer in', () => converged(members));
    for (let i = 0; i < 40; i += 1) {
      if (i === 7) continue;
      const got = await members[i % members.length]!.get(`key-${i}`);
      assert.equal(got.item.value, `value-${i}`);
    }
    const owned = await Promise.all(Array.from({ length: 40 }, (_, i) => newcomer.ownersOf(`key-${i}`)));
    const newcomerOwns = owned.filter((owners) => owners[0]?.address === 'mem8:1').length;
    assert.ok(newcomerOwns > 0, 'the newcomer owns some of the keys (11 with these addresses)');
    assert.ok(newcomer.routingTable().items >= newcomerOwns, 'and holds them: it pulled them on joining');
    await Promise.all(members.map((n) => n.stop()));
    await Promise.all([nodes[0]!.stop(), nodes[1]!.stop(), nodes[4]!.stop()]);
  });
});

describe('a DHT member restarted at once with the same address and id', () => {
  it('rejoins although the ring still points at its previous run', async () => {
    const count = 4;
    const { network, transports, nodes } = await startRing(count);

    await transports[2]!.close();
    await nodes[2]!.stop();
    const restarted = new Dht(network.join('mem2:1', { nodeId: 'm2', version: 't' }), configFor(2, count), silent);
    restarted.start();
    const members = [nodes[0]!, nodes[1]!, restarted, nodes[3]!];
    await until('the restarted member is back in the ring', () => converged(members));
    assert.equal(restarted.routingTable().self.id, nodes[2]!.routingTable().self.id);
    await Promise.all(members.map((n) => n.stop()));
  });
});
