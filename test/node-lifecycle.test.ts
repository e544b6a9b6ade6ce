import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from './helpers/ports.ts';
import { waitForStatus, weftBin, WeftProcess, withoutWeftEnv } from './helpers/weft-process.ts';

describe('weft node lifecycle', () => {
  it('reads file < env < flag, serves /health, and stops on SIGTERM with status 0', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-node-'));
    const [peerPort, httpPort] = [await freePort(), await freePort()];
    const file = join(dir, 'node.yaml');
    writeFileSync(file, `id: from-file\nhttp-port: ${httpPort}\npeer-port: 1\nlog-level: debug\n`);
    const env = withoutWeftEnv({ WEFT_ID: 'from-env', WEFT_PEER_PORT: '2' });
    const node = new WeftProcess(
      ['node', '--config', file, '--peer-port', String(peerPort), '--data-dir', join(dir, 'data')],
      { env },
    );
    t.after(() => node.kill());
    await node.waitFor(/"msg":"node started"/, 15_000);
    // A single node is ready once it has elected itself (one election timeout).
    await waitForStatus(`http://127.0.0.1:${httpPort}/ready`, 200, 10_000);

    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as Record<string, unknown>;
    assert.equal(health['id'], 'from-env');
    assert.equal(health['status'], 'ok');
    assert.equal(health['pid'], node.child.pid);
    assert.equal((health['kv'] as { leader: string }).leader, 'from-env');
    assert.ok(existsSync(join(dir, 'data', 'LOCK')), 'the data dir is locked while the node runs');

    node.child.kill('SIGTERM');
    const result = await node.finished;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"msg":"stopped"/);
    assert.ok(!existsSync(join(dir, 'data', 'LOCK')), 'the lock is released on a graceful stop');
  });

  it('stops by itself when its supervisor went away while it was starting', async (t) => {
    // `weft up` and the benches start nodes with an IPC channel; a supervisor that dies closes it.
    const dir = mkdtempSync(join(tmpdir(), 'weft-node-'));
    const ports = ['--peer-port', String(await freePort()), '--http-port', String(await freePort())];
    const child = spawn(process.execPath, [weftBin, 'node', ...ports, '--data-dir', dir], {
      env: withoutWeftEnv(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.disconnect(); // gone before the node listens for it
    // The timer also keeps this process's event loop alive: with its IPC channel gone, the child's handle does not.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.on('exit', resolve)),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still running after 30 s'), 30_000))),
    ]);
    clearTimeout(timer);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /"signal":"supervisor-gone"/);
  });

  it('refuses a data dir another live node holds', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'weft-node-'));
    const first = new WeftProcess([
      'node',
      '--peer-port',
      String(await freePort()),
      '--http-port',
      String(await freePort()),
      '--data-dir',
      dir,
    ]);
    t.after(() => first.kill());
    await first.waitFor(/"msg":"node started"/, 15_000);
    const second = new WeftProcess([
      'node',
      '--id',
      'n2',
      '--peer-port',
      String(await freePort()),
      '--http-port',
      String(await freePort()),
      '--data-dir',
      dir,
    ]);
    const result = await second.finished;
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`data-dir: .* is in use by process ${first.child.pid}`));
  });
});
