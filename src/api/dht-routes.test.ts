import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { resolveConfig } from '../core/config-schema.ts';
import { finalizeNodeConfig, nodeConfigSchema } from '../node/config.ts';
import { Dht } from '../node/dht/dht.ts';
import { createNodeMetrics } from '../node/metrics.ts';
import type { HealthReport } from '../node/node.ts';
import { MemoryNetwork } from '../transport/memory-transport.ts';
import { dhtClient } from './dht-client-api.ts';
import { buildHttpApp } from './http-app.ts';

const health: HealthReport = { status: 'ok', id: 'n1', version: 't', pid: 1, uptimeSeconds: 0, peers: [] };

describe('DHT HTTP routes (one node, a ring of its own)', () => {
  const transport = new MemoryNetwork().join('solo:1', { nodeId: 'solo', version: 't' });
  const config = finalizeNodeConfig(
    resolveConfig(nodeConfigSchema, { flags: { id: 'solo', 'dht-max-value-bytes': '16' }, env: {}, file: {} }),
  );
  const metrics = createNodeMetrics('solo', 't');
  const dht = new Dht(transport, config, pino({ level: 'silent' }), metrics.registry);
  const app = buildHttpApp({
    health: () => health,
    notReadyReason: () => undefined,
    metrics,
    log: pino({ level: 'silent' }),
    dht: dhtClient(dht),
  });
  before(() => dht.start());
  after(async () => {
    await dht.stop();
    await transport.close();
  });

  it('PUT then GET a key, and DELETE makes it a 404', async () => {
    const put = await app.inject({ method: 'PUT', url: '/v1/dht/keys/colour', payload: { value: 'teal' } });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().owner.address, 'solo:1');
    const get = await app.inject({ url: '/v1/dht/keys/colour' });
    assert.equal(get.json().value, 'teal');
    assert.equal(get.json().id, dht.view({ id: dht.idOf('colour'), address: '' }).id);
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/dht/keys/colour' })).statusCode, 200);
    const gone = await app.inject({ url: '/v1/dht/keys/colour' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'NOT_FOUND');
    assert.equal((await app.inject({ method: 'DELETE', url: '/v1/dht/keys/colour' })).statusCode, 404);
  });

  it('refuses a body without a value, and a value over the limit, saying why', async () => {
    const bad = await app.inject({ method: 'PUT', url: '/v1/dht/keys/k', payload: { nope: 1 } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /"value"/);
    const big = await app.inject({ method: 'PUT', url: '/v1/dht/keys/k', payload: { value: 'x'.repeat(17) } });
    assert.equal(big.statusCode, 413);
    assert.match(big.json().error.message, /--dht-max-value-bytes/);
  });

  it('lookup of an id names the owner; a malformed id is a 400', async () => {
    const found = await app.inject({ url: '/v1/dht/lookup/00ff' });
    assert.equal(found.statusCode, 200);
    assert.deepEqual(found.json().owner, dht.routingTable().self);
    const bad = await app.inject({ url: '/v1/dht/lookup/xyz' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /16 hex digits/);
    const text = (await app.inject({ url: '/metrics' })).body;
    assert.match(text, /^weft_dht_joined 1$/m);
    assert.match(text, /^weft_dht_lookups_total\{result="ok"\} [1-9]/m);
    assert.match(text, /^weft_dht_lookup_hops_count [1-9]/m);
  });

  it('the routing table shows self, no neighbours when alone', async () => {
    const table = (await app.inject({ url: '/v1/dht/routing-table' })).json();
    assert.equal(table.joined, true);
    assert.equal(table.self.address, 'solo:1');
    assert.deepEqual([table.successors, table.window], [[], []]);
  });
});
