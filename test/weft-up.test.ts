import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { etcdctl, requireEtcdctl } from './helpers/etcdctl.ts';
import { freePortRange } from './helpers/ports.ts';
import { processExists, runWeft, sleep, WeftProcess } from './helpers/weft-process.ts';

interface Health {
  id: string;
  pid: number;
  status: string;
  peers: { id: string; reachable: boolean }[];
  kv: { leader: string; voters: string[] } | null;
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/health`)).json()) as Health;
}

/** Poll until every node reaches every other by Ping and all follow one KV leader. */
async function waitAllReachable(urls: string[], timeoutMs: number): Promise<Health[]> {
  const deadline = Date.now() + timeoutMs;
  let last: Health[] = [];
  while (Date.now() < deadline) {
    last = await Promise.all(urls.map(health));
    const leader = last[0]?.kv?.leader ?? '';
    const agreed = leader !== '' && last.every((h) => h.kv?.leader === leader);
    if (agreed && last.every((h) => h.peers.length === urls.length - 1 && h.peers.every((p) => p.reachable)))
      return last;
    await sleep(100);
  }
  throw new Error(`peers not all reachable: ${JSON.stringify(last)}`);
}

describe('weft up', () => {
  it('starts 3 nodes that ping each other, reports a dead node, and leaves nothing behind on SIGINT', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-up-'));
    const basePort = await freePortRange(3);
    const httpBasePort = await freePortRange(3);
    const clientBasePort = await freePortRange(3);
    const up = new WeftProcess(
      [
        'up',
        '--nodes',
        '3',
        '--base-port',
        String(basePort),
        '--http-base-port',
        String(httpBasePort),
        '--client-base-port',
        String(clientBasePort),
        '--data-dir',
        dir,
      ],
      { cwd: dir },
    );
    t.after(() => up.kill());
    await up.waitFor(/weft up: 3 nodes ready/, 30_000);
    const urls = [1, 2, 3].map((i) => `http://127.0.0.1:${httpBasePort + i}`);
    for (const [i, url] of urls.entries()) {
      assert.match(
        up.stdout,
        new RegExp(
          `n${i + 1} +etcd API 127\\.0\\.0\\.1:${clientBasePort + i + 1} +peer 127\\.0\\.0\\.1:${basePort + i + 1} +http ${url}`,
        ),
      );
    }

    const reports = await waitAllReachable(urls, 15_000);
    assert.deepEqual(
      reports.map((h) => h.id),
      ['n1', 'n2', 'n3'],
    );
    assert.deepEqual(reports[0]?.kv?.voters, ['n1', 'n2', 'n3'], 'the three nodes form one KV group');
    const pids = reports.map((h) => h.pid);

    // weft kv finds the nodes' client ports in the cluster file.
    const put = await runWeft(['kv', 'put', 'greeting', 'hello', '--data-dir', dir]);
    assert.equal(put.code, 0, put.stdout + put.stderr);
    const get = await runWeft(['kv', 'get', 'greeting', '--data-dir', dir]);
    assert.match(get.stdout, /hello/);

    // Every member lists every other's client URL (learnt from it), so etcd clients that read the member
    // list find the etcd API there: etcdctl's --cluster commands dial each listed client URL.
    requireEtcdctl();
    const clientUrls = [1, 2, 3].map((i) => `http://127.0.0.1:${clientBasePort + i}`);
    for (const [i, url] of clientUrls.entries()) {
      let list = '';
      for (let waited = 0; waited <= 10_000; waited += 100) {
        list = (await etcdctl(url.slice('http://'.length), ['member', 'list'])).stdout;
        if (
          clientUrls.every((u, j) => list.includes(`, started, n${j + 1}, http://127.0.0.1:${basePort + j + 1}, ${u},`))
        )
          break;
        await sleep(100);
      }
      for (const [j, u] of clientUrls.entries())
        assert.match(
          list,
          new RegExp(`, started, n${j + 1}, http://127\\.0\\.0\\.1:${basePort + j + 1}, ${u}, false`),
          `n${i + 1}'s list`,
        );
    }
    const health = await etcdctl(clientUrls[0]!.slice('http://'.length), ['endpoint', 'health', '--cluster']);
    assert.equal(health.status, 0, health.stderr);
    for (const url of clientUrls) assert.match(health.stderr, new RegExp(`${url} is healthy`));

    const status = await runWeft(['status', '--data-dir', dir]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /^n2 +http:\/\/127\.0\.0\.1:\d+ +ok +(leader|follower) t\d+ +n\d +2\/2 /m);

    // A node that dies is named, with the reason, and status turns non-zero.
    process.kill(pids[2]!, 'SIGKILL');
    await up.waitFor(/node n3 was killed by SIGKILL/, 10_000);
    const degraded = await runWeft(['status', '--endpoints', urls.join(',')]);
    assert.equal(degraded.code, 1);
    assert.match(degraded.stdout, /down/);

    up.child.kill('SIGINT');
    const result = await up.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /weft up: all nodes stopped/);
    for (const pid of pids) assert.equal(processExists(pid), false, `node process ${pid} is gone`);
  });

  it('reports which node failed to start and why, and stops the rest', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-up-'));
    const basePort = await freePortRange(2);
    const httpBasePort = await freePortRange(2);
    const clientBasePort = await freePortRange(2);
    // Something else already holds node n2's HTTP port.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(httpBasePort + 2, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const up = new WeftProcess(
      [
        'up',
        '--nodes',
        '2',
        '--base-port',
        String(basePort),
        '--http-base-port',
        String(httpBasePort),
        '--client-base-port',
        String(clientBasePort),
        '--data-dir',
        dir,
      ],
      { cwd: dir },
    );
    t.after(() => up.kill());
    const result = await up.finished;
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /weft up: node n2 exited with status 2: .*http-port: port \d+ on 127\.0\.0\.1 is already in use; .*; stopping the others/,
    );
  });

  it('refuses port ranges that overlap, naming the flag', async () => {
    const result = await runWeft(['up', '--base-port', '4000', '--client-base-port', '4001', '--data-dir', tmpdir()]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /client-base-port: its port range overlaps --base-port's/);
  });
});
