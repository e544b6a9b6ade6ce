import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePortRange } from './helpers/ports.ts';
import { sleep, WeftProcess } from './helpers/weft-process.ts';

async function ready(url: string): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, body: (await response.json()) as { reason?: string } };
}

describe('joining the DHT with peers configured', () => {
  it('a node that finds no ring retries and says so, never founds one alone, joins once the founder is up, and rejoins after a kill', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-join-'));
    const [peerBase, httpBase] = [await freePortRange(2), await freePortRange(2)];
    const peers = `n1=127.0.0.1:${peerBase + 1},n2=127.0.0.1:${peerBase + 2}`;
    const start = (i: number): WeftProcess =>
      new WeftProcess([
        'node',
        ...['--id', `n${i}`, '--peers', peers, '--http-port', String(httpBase + i)],
        ...['--data-dir', join(dir, `n${i}`), '--log-level', 'warn', '--dht-stabilize-ms', '100'],
      ]);
    const n2 = start(2);
    t.after(() => n2.kill());
    const retries = /"msg":"could not join the DHT ring; retrying[^"]*"/g;
    for (let waited = 0; (n2.stdout.match(retries) ?? []).length < 2; waited += 100) {
      assert.ok(waited < 30_000, `no retry warnings:\n${n2.stdout}\n${n2.stderr}`);
      await sleep(100);
    }
    assert.deepEqual(await ready(`http://127.0.0.1:${httpBase + 2}`), {
      status: 503,
      body: { ready: false, reason: 'joining the DHT ring' },
    });

    const n1 = start(1);
    t.after(() => n1.kill());
    for (let waited = 0; (await ready(`http://127.0.0.1:${httpBase + 2}`)).status !== 200; waited += 200) {
      assert.ok(waited < 30_000, 'n2 joined once n1 was up');
      await sleep(200);
    }
    const table = async (i: number) =>
      (await (await fetch(`http://127.0.0.1:${httpBase + i}/v1/dht/routing-table`)).json()) as {
        successors: { address: string }[];
        predecessor?: { address: string };
      };
    assert.equal((await table(2)).successors[0]?.address, `127.0.0.1:${peerBase + 1}`);

    // Killed and started again, n2 has the same id; the ring still remembers its previous run.
    n2.child.kill('SIGKILL');
    await n2.finished;
    const again = start(2);
    t.after(() => again.kill());
    for (let waited = 0; ; waited += 200) {
      const answer = await ready(`http://127.0.0.1:${httpBase + 2}`).catch(() => ({ status: 0 }));
      if (answer.status === 200) break;
      assert.ok(waited < 30_000, `n2 rejoined after a restart:\n${again.stdout}`);
      await sleep(200);
    }
    for (let waited = 0; (await table(1)).successors[0]?.address !== `127.0.0.1:${peerBase + 2}`; waited += 200) {
      assert.ok(waited < 30_000, 'n1 takes the restarted n2 as its successor');
      await sleep(200);
    }
    assert.equal((await table(2)).successors[0]?.address, `127.0.0.1:${peerBase + 1}`);
  });
});
