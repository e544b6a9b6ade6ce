// `weft kv` and `weft bench kv` against an in-process etcd-compatible server:
// what they print, their usage errors, and the bench's machine-readable line.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEtcdTestServer, type EtcdTestServer } from '../api/testing/etcd-test-server.ts';
import { ConfigError } from '../core/errors.ts';
import { parseDurationMs, runBench } from './bench-command.ts';
import { writeClusterFile } from './cluster-file.ts';
import { splitShares } from './bench/kv-workload.ts';
import { runKv, type Output } from './kv-command.ts';

function capture(): Output & { text: () => string } {
  const chunks: Buffer[] = [];
  return {
    write: (chunk: string | Uint8Array) => chunks.push(Buffer.from(chunk)) > 0,
    text: () => Buffer.concat(chunks).toString(),
  };
}

describe('weft kv', () => {
  let server: EtcdTestServer;
  const kv = async (...argv: string[]): Promise<string> => {
    const out = capture();
    assert.equal(await runKv([...argv, '--endpoints', server.endpoint], {}, out), 0);
    return out.text();
  };
  before(async () => {
    server = await startEtcdTestServer();
  });
  after(() => server.stop());

  it('put prints OK; get prints keys and values, as etcdctl does', async () => {
    assert.equal(await kv('put', 'app/a', 'one'), 'OK\n');
    assert.equal(await kv('put', 'app/b', 'two'), 'OK\n');
    assert.equal(await kv('get', 'app/a'), 'app/a\none\n');
    assert.equal(await kv('get', 'app/', '--prefix'), 'app/a\none\napp/b\ntwo\n');
    assert.equal(await kv('get', 'app/', '--prefix', '--print-value-only', '--limit', '1'), 'one\n');
  });

  it('get --rev and --consistency s', async () => {
    await kv('put', 'rev', 'old');
    const revision = server.kv.store.revision;
    await kv('put', 'rev', 'new');
    assert.equal(
      await kv('get', 'rev', '--rev', String(revision), '--consistency', 's', '--print-value-only'),
      'old\n',
    );
  });

  it('del prints how many keys went, also with --prefix', async () => {
    await kv('put', 'gone/1', 'x');
    await kv('put', 'gone/2', 'x');
    assert.equal(await kv('del', 'gone/1'), '1\n');
    assert.equal(await kv('del', 'gone/', '--prefix'), '1\n');
    assert.equal(await kv('get', 'gone/', '--prefix'), '');
  });

  it('finds the endpoints in cluster.json (clientUrl, else the peer address)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'weft-kv-'));
    try {
      const node = { id: 'n1', httpUrl: 'http://127.0.0.1:1', dataDir };
      await writeClusterFile(dataDir, [{ ...node, peerAddress: server.endpoint }]);
      const out = capture();
      await runKv(['put', 'via-file', 'yes'], { WEFT_DATA_DIR: dataDir }, out);
      assert.equal(out.text(), 'OK\n');
      await writeClusterFile(dataDir, [{ ...node, peerAddress: '127.0.0.1:1', clientUrl: server.endpoint }]);
      const read = capture();
      await runKv(['get', 'via-file', '--data-dir', dataDir, '--print-value-only'], {}, read);
      assert.equal(read.text(), 'yes\n');
    } finally {
      await rm(dataDir, { recursive: true });
    }
  });

  it('usage errors are ConfigErrors naming the field', async () => {
    const field = async (...argv: string[]): Promise<string> => {
      try {
        await runKv([...argv, '--endpoints', server.endpoint], {}, capture());
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.field;
      }
      return assert.fail('expected a ConfigError');
    };
    assert.equal(await field('frob', 'k'), 'command');
    assert.equal(await field('get'), 'key');
    assert.equal(await field('put', 'k', 'v', '--prefix'), 'prefix');
    assert.equal(await field('get', 'k', '--rev', 'x'), 'rev');
    assert.equal(await field('get', 'k', '--consistency', 'eventual'), 'consistency');
    assert.equal(await field('del', 'k', 'extra'), 'extra');
  });

  it("a store error fails the command with etcd's message", async () => {
    await assert.rejects(
      runKv(['get', 'k', '--rev', '999999', '--endpoints', server.endpoint], {}, capture()),
      /required revision is a future revision/,
    );
  });
});

describe('weft bench kv', () => {
  let server: EtcdTestServer;
  before(async () => {
    server = await startEtcdTestServer();
  });
  after(() => server.stop());

  it('runs the workload and ends with the machine-readable line', async () => {
    const out = capture();
    const argv = ['kv', '--endpoints', server.endpoint, '--clients', '4', '--duration', '300ms', '--keys', '20'];
    assert.equal(await runBench([...argv, '--value-size', '64', '--read-ratio', '0.5'], {}, out), 0);
    const lines = out.text().trimEnd().split('\n');
    assert.match(
      lines[0]!,
      /^weft bench kv: 4 clients on 1 connections \(1 threads\) .* 64-byte values, 20 keys, read ratio 0.5/,
    );
    const last = lines.at(-1)!;
    assert.match(
      last,
      /^ops_per_s=\d+\.\d write_ops_per_s=\d+\.\d write_p50_ms=\d+\.\d{3} write_p99_ms=\d+\.\d{3} read_ops_per_s=\d+\.\d read_p99_ms=\d+\.\d{3}$/,
    );
    const fields = Object.fromEntries(last.split(' ').map((pair) => pair.split('=') as [string, string]));
    assert.ok(Number(fields['ops_per_s']) > 0, last);
    const written = server.kv.store.range({ key: Buffer.from('k0000000') }).kvs[0];
    assert.equal(written?.value.length, 64, 'the preload wrote every key with the value size');
  });

  it('--workers splits the clients over threads and merges what they measured', async () => {
    const out = capture();
    const argv = ['kv', '--endpoints', server.endpoint, '--clients', '3', '--workers', '2', '--duration', '300ms'];
    const before = server.kv.store.revision;
    assert.equal(await runBench([...argv, '--keys', '5', '--read-ratio', '0'], {}, out), 0);
    const last = out.text().trimEnd().split('\n').at(-1)!;
    const writes = Number(/write_ops_per_s=([\d.]+)/.exec(last)?.[1]);
    assert.ok(writes > 0, last);
    assert.ok(server.kv.store.revision - before > 5, 'the threads wrote after the preload');
    const shares = splitShares(
      {
        endpoints: ['a:1'],
        clients: 5,
        connections: 3,
        workers: 2,
        durationMs: 1,
        valueSizeBytes: 1,
        readRatio: 0,
        keys: 1,
        consistency: 'linearizable',
        seed: 7,
      },
      1000,
    );
    assert.deepEqual(
      shares.map((share) => [share.clients, share.connections, share.seed]),
      [
        [3, 2, 7],
        [2, 1, 8],
      ],
    );
  });

  it('durations and bad flags', async () => {
    assert.deepEqual(['10s', '500ms', '2m', '1.5'].map(parseDurationMs), [10_000, 500, 120_000, 1500]);
    assert.throws(() => parseDurationMs('5h'), ConfigError);
    assert.throws(() => parseDurationMs('10ms'), ConfigError);
    await assert.rejects(
      runBench(['kv', '--endpoints', server.endpoint, '--read-ratio', '2'], {}, capture()),
      ConfigError,
    );
    await assert.rejects(runBench(['db'], {}, capture()), ConfigError);
  });
});
