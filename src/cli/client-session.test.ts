import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { WeftError } from '../core/errors.ts';
import { ClientSession, type ClientConnection } from './client-session.ts';

const owner = { id: '00aa', address: 'n2:4002' };

function fake(address: string, calls: string[]): ClientConnection {
  return {
    address,
    close: () => undefined,
    async call(method, payload) {
      const request = JSON.parse(new TextDecoder().decode(payload)) as Record<string, string>;
      calls.push(`${address} ${method} ${JSON.stringify(request)}`);
      const answers: Record<string, unknown> = {
        'dht.client.put': { key: request['key'], owner, replicas: 7, hops: 2 },
        'dht.client.lookup': { owner, hops: 3, retries: 0 },
        'dht.client.routing-table': { joined: true, self: owner, successors: [owner], window: [], items: 4 },
      };
      if (method === 'dht.client.get') throw new WeftError('NOT_FOUND', 'no value for key "k"; put it first');
      return new TextEncoder().encode(JSON.stringify(answers[method]));
    },
  };
}

describe('weft client session', () => {
  it('runs each command, prints the answer and its latency, and switches nodes with use', async () => {
    const calls: string[] = [];
    const lines: string[] = [];
    const session = new ClientSession(
      (a) => fake(a, calls),
      'n1:4001',
      1000,
      (l) => lines.push(l),
    );
    assert.equal(await session.run('put greeting hello there'), true);
    assert.equal(await session.run('get k'), false);
    assert.equal(await session.run('use n3:4003'), true);
    assert.equal(await session.run('lookup 0a'), true);
    assert.equal(await session.run('getrt'), true);
    assert.equal(await session.run('exit'), 'exit');
    assert.deepEqual(calls, [
      'n1:4001 dht.client.put {"key":"greeting","value":"hello there"}',
      'n1:4001 dht.client.get {"key":"k"}',
      'n3:4003 dht.client.lookup {"id":"0a"}',
      'n3:4003 dht.client.routing-table {}',
    ]);
    assert.match(
      lines[0] ?? '',
      /^Put succeeded \(key=greeting\) owner=00aa \(n2:4002\) replicas=7 hops=2 \| latency=\d+\.\d\dms$/,
    );
    assert.match(lines[1] ?? '', /^Get failed: NOT_FOUND: no value for key "k"; put it first \| latency=/);
    assert.equal(lines[2], 'Now talking to n3:4003');
    assert.match(lines[3] ?? '', /^Lookup result: successor=00aa \(n2:4002\) hops=3 retries=0 \| latency=/);
    assert.match(
      lines[4] ?? '',
      /Self: +00aa \(n2:4002\)[\s\S]*\[0\] 00aa \(n2:4002\)[\s\S]*Items held: +4 \| latency=/,
    );
  });

  it('explains the usage of a command given the wrong arguments, and unknown commands', async () => {
    const lines: string[] = [];
    const session = new ClientSession(
      (a) => fake(a, []),
      'n1:4001',
      1000,
      (l) => lines.push(l),
    );
    assert.equal(await session.run('put onlykey'), false);
    assert.equal(await session.run('frobnicate'), false);
    assert.equal(await session.run('   '), true);
    assert.deepEqual(lines, ['Usage: put <key> <value>', 'Unknown command "frobnicate"; type help for the list']);
  });
});
