import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { srvPeers } from './dns-srv.ts';

describe('DNS SRV peers', () => {
  it('orders records by priority, then weight, and drops the trailing dot', async () => {
    const peers = await srvPeers('_weft._tcp.example', async () => [
      { name: 'c.example.', port: 4003, priority: 20, weight: 5 },
      { name: 'a.example.', port: 4001, priority: 10, weight: 1 },
      { name: 'b.example', port: 4002, priority: 10, weight: 9 },
    ]);
    assert.deepEqual(peers, ['b.example:4002', 'a.example:4001', 'c.example:4003']);
  });

  it('a name that does not resolve gives no peers', async () => {
    const peers = await srvPeers('_weft._tcp.nowhere', async () => {
      throw Object.assign(new Error('queryNotFound'), { code: 'ENOTFOUND' });
    });
    assert.deepEqual(peers, []);
  });
});
