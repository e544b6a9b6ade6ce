// An entry node whose DHT lookups find no owner (the ring is re-forming):
// it waits for the DHT's rounds and asks again, so the owner still answers
// and single flight stays cluster-wide; when no owner appears, it answers
// as a stand-in rather than fail. Two web caches on the in-memory network,
// each with a scripted DHT; the origin is real, on 127.0.0.1.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TestOrigin } from '../../../test/helpers/cache-kit.ts';
import { resolveConfig } from '../../core/config-schema.ts';
import { isWeftError, WeftError } from '../../core/errors.ts';
import { createIdSpace, type Id } from '../../koorde/id-space.ts';
import { MemoryNetwork } from '../../transport/memory-transport.ts';
import { finalizeNodeConfig, nodeConfigSchema } from '../config.ts';
import type { LookupResult } from '../dht/dht-member.ts';
import { idOfBytes } from '../dht/key-id.ts';
import type { CacheDht } from './cache-routing.ts';
import { WebCache } from './web-cache.ts';

const space = createIdSpace(64, 8);
const silent = pino({ level: 'silent' });

/** A DHT that owns nothing (or everything) and fails the first `failures` lookups with NO_ROUTE. */
class ScriptedDht implements CacheDht {
  readonly space = space;
  readonly joined = true;
  lookups = 0;

  constructor(
    private readonly owner: boolean,
    private readonly failures: number,
    private readonly ownerAddress = '',
  ) {}

  idOf(key: string): Id {
    return idOfBytes(space, key);
  }

  owns(): boolean {
    return this.owner;
  }

  async lookup(id: Id): Promise<LookupResult> {
    this.lookups += 1;
    if (this.lookups <= this.failures) throw new WeftError('NO_ROUTE', 'the ring is re-forming');
    return { key: id, owners: [{ id: 0n, address: this.ownerAddress }], hops: 1, confirmations: 1, retries: 0 };
  }

  successorAddresses(): readonly string[] {
    return [];
  }
}

let origin: TestOrigin;
const caches: WebCache[] = [];

function cacheOn(network: MemoryNetwork, name: string, dht: CacheDht): WebCache {
  const flags = { id: name, 'cache-allow': '127.0.0.1/32', 'dht-stabilize-ms': '20' };
  const config = finalizeNodeConfig(resolveConfig(nodeConfigSchema, { flags, env: {}, file: {} }));
  const transport = network.join(`${name}:1`, { nodeId: name, version: 't' });
  const cache = new WebCache({ nodeId: name, transport, dht, config, log: silent, registry: new Registry() });
  caches.push(cache);
  return cache;
}

before(async () => {
  origin = await TestOrigin.start();
  origin.serve('/a', { 'cache-control': 'max-age=60' }, 'from the origin');
  origin.serve('/b', { 'cache-control': 'max-age=60' }, 'from the origin');
});
after(async () => {
  await Promise.all(caches.map((c) => c.stop()));
  await origin.close();
});

describe('an entry node that finds no owner', () => {
  it('waits for the ring and asks the owner once it is found', async () => {
    const network = new MemoryNetwork();
    cacheOn(network, 'owner', new ScriptedDht(true, 0));
    const entryDht = new ScriptedDht(false, 2, 'owner:1');
    const entry = cacheOn(network, 'entry', entryDht);
    const answer = await entry.get(origin.url('/a'), {});
    assert.equal(answer.node, 'owner');
    assert.equal(answer.body.toString(), 'from the origin');
    assert.equal(entryDht.lookups, 3, 'two lookups found no owner, the third did');
    assert.equal(origin.count('/a'), 1);
  });

  it('answers as a stand-in when no owner appears', async () => {
    const network = new MemoryNetwork();
    const entryDht = new ScriptedDht(false, Number.MAX_SAFE_INTEGER);
    const entry = cacheOn(network, 'alone', entryDht);
    const answer = await entry.get(origin.url('/b'), {});
    assert.equal(answer.node, 'alone');
    assert.equal(answer.result, 'MISS');
    assert.equal(entryDht.lookups, 3, 'one lookup per round: the first and two more after waiting');
  });

  it('stops waiting when the node stops', async () => {
    const network = new MemoryNetwork();
    const entry = cacheOn(network, 'stopping', new ScriptedDht(false, Number.MAX_SAFE_INTEGER));
    const pending = Promise.resolve(entry.get(origin.url('/c'), {}));
    await entry.stop();
    await assert.rejects(pending, (e: unknown) => isWeftError(e, 'ABORTED'));
  });
});
