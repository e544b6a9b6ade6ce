// The real etcdctl 3.4 (Debian etcd-client) against weft's etcd-compatible
// gRPC API, served in-process over a single-node store: the commands issue 6
// names work and print what they print against etcd, and errors arrive with
// etcd's messages. Nothing is skipped: without etcdctl the suite fails.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { hexId, memberIdOf } from '../src/core/ids.ts';
import { startEtcdTestServer, type EtcdServerKind, type EtcdTestServer } from '../src/api/testing/etcd-test-server.ts';
import { etcdctl, requireEtcdctl } from './helpers/etcdctl.ts';

function withServer(kind: EtcdServerKind): {
  server: () => EtcdTestServer;
  run: (args: string[], stdin?: string) => ReturnType<typeof etcdctl>;
} {
  let server: EtcdTestServer | undefined;
  before(async () => {
    requireEtcdctl();
    server = await startEtcdTestServer({ server: kind });
  });
  after(() => server?.stop());
  const current = (): EtcdTestServer => {
    assert.ok(server, 'server started');
    return server;
  };
  return { server: current, run: (args, stdin) => etcdctl(current().endpoint, args, stdin) };
}

/** etcdctl -w json prints uint64 ids as bare numbers beyond 2^53; read them as text. */
function jsonNumber(json: string, field: string): string {
  const match = new RegExp(`"${field}":(\\d+)`).exec(json);
  assert.ok(match?.[1], `${field} in ${json}`);
  return match[1];
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

// Both servers a node can serve the API with: its client port's and grpc-js's on the peer port.
for (const kind of ['client-port', 'peer-port'] as const) {
  describe(`etcdctl (${kind}): put, get, del`, () => {
    const { server, run } = withServer(kind);

    it('put prints OK and get prints key and value', async () => {
      assert.equal((await run(['put', 'greeting', 'hello'])).stdout, 'OK\n');
      assert.equal((await run(['get', 'greeting'])).stdout, 'greeting\nhello\n');
    });

    it('get --prefix, --print-value-only and -w json', async () => {
      for (const [key, value] of [
        ['fruit/apple', '1'],
        ['fruit/banana', '2'],
        ['fruits', '3'],
      ]) {
        assert.equal((await run(['put', key!, value!])).status, 0);
      }
      assert.equal((await run(['get', 'fruit/', '--prefix'])).stdout, 'fruit/apple\n1\nfruit/banana\n2\n');
      assert.equal((await run(['get', 'fruit/', '--prefix', '--print-value-only'])).stdout, '1\n2\n');
      const json = (await run(['get', 'fruit/', '--prefix', '-w', 'json'])).stdout;
      const parsed = JSON.parse(json) as { kvs: { key: string; value: string; version: number }[]; count: number };
      assert.deepEqual(
        parsed.kvs.map((kv) => [kv.key, kv.value, kv.version]),
        [
          [b64('fruit/apple'), b64('1'), 1],
          [b64('fruit/banana'), b64('2'), 1],
        ],
      );
      assert.equal(parsed.count, 2);
      assert.equal(jsonNumber(json, 'member_id'), memberIdOf('n1').toString());
      assert.equal(Number(jsonNumber(json, 'revision')), server().kv.store.revision);
    });

    it("get --prefix of more than HTTP/2's flow-control windows hold (3 MiB of values)", async () => {
      const value = Buffer.alloc(12 * 1024, 'v');
      for (let i = 0; i < 256; i += 1) {
        await server().kv.put({ key: Buffer.from(`big/${String(i).padStart(3, '0')}`), value });
      }
      const { stdout, status } = await run(['get', 'big/', '--prefix', '--print-value-only']);
      assert.equal(status, 0);
      const lines = stdout.split('\n').filter((line) => line !== '');
      assert.equal(lines.length, 256);
      assert.ok(lines.every((line) => line === value.toString()));
    });

    it('get --rev reads an older version', async () => {
      const first = Number(jsonNumber((await run(['put', 'counter', 'one', '-w', 'json'])).stdout, 'revision'));
      await run(['put', 'counter', 'two']);
      assert.equal((await run(['get', 'counter', `--rev=${first}`, '--print-value-only'])).stdout, 'one\n');
      assert.equal((await run(['get', 'counter', '--print-value-only'])).stdout, 'two\n');
    });

    it('del prints how many keys it deleted, also with --prefix', async () => {
      await run(['put', 'tmp/a', 'x']);
      await run(['put', 'tmp/b', 'y']);
      assert.equal((await run(['del', 'tmp/a'])).stdout, '1\n');
      assert.equal((await run(['del', 'tmp/', '--prefix'])).stdout, '1\n');
      assert.equal((await run(['del', 'tmp/nothing'])).stdout, '0\n');
      assert.equal((await run(['get', 'tmp/', '--prefix'])).stdout, '');
    });

    it('put --ignore-value keeps the value, and needs the key; a lease is refused (weft serves none yet)', async () => {
      await run(['put', 'kept', 'original']);
      assert.equal((await run(['put', 'kept', '--ignore-value'])).stdout, 'OK\n');
      const json = (await run(['get', 'kept', '-w', 'json'])).stdout;
      assert.deepEqual(
        (JSON.parse(json) as { kvs: { value: string; version: number }[] }).kvs.map((kv) => [kv.value, kv.version]),
        [[b64('original'), 2]],
      );
      assert.equal((await run(['put', 'absent', '--ignore-value'])).error, 'Error: etcdserver: key not found');
      assert.equal(
        (await run(['put', 'leased', 'v', '--lease=1234abcd'])).error,
        'Error: etcdserver: requested lease not found',
      );
    });

    it("errors carry etcd's messages and change nothing", async () => {
      const revision = server().kv.store.revision;
      const future = await run(['get', 'greeting', `--rev=${revision + 100}`]);
      assert.equal(future.status, 1);
      assert.equal(future.error, 'Error: etcdserver: mvcc: required revision is a future revision');
      assert.equal((await run(['put', '', 'x'])).error, 'Error: etcdserver: key is not provided');
      const big = await run(['put', 'big'], 'x'.repeat(1024 * 1024 + 1));
      assert.equal(big.error, 'Error: etcdserver: request is too large');
      assert.equal(server().kv.store.revision, revision, 'no failed request wrote anything');
      assert.equal((await run(['get', 'big'])).stdout, '');
    });
  });

  describe(`etcdctl (${kind}): txn`, () => {
    const { server, run } = withServer(kind);

    it('the interactive form runs the success branch when the compares hold', async () => {
      await run(['put', 'k', 'v1']);
      const result = await run(['txn'], 'mod("k") > "0"\n\nput k v2\nget k\n\nput k v3\n\n');
      assert.equal(result.stdout, 'SUCCESS\n\nOK\n\nk\nv2\n');
    });

    it('and the failure branch when they do not', async () => {
      const result = await run(['txn'], 'value("k") = "nope"\n\nput k yes\n\nput k no\n\n');
      assert.equal(result.stdout, 'FAILURE\n\nOK\n');
      assert.equal((await run(['get', 'k', '--print-value-only'])).stdout, 'no\n');
    });

    it('more ops than --max-txn-ops is "too many operations" and writes nothing', async () => {
      const revision = server().kv.store.revision;
      const puts = Array.from({ length: 129 }, (_, i) => `put many/${i} v`).join('\n');
      const result = await run(['txn'], `\n${puts}\n\n\n`);
      assert.equal(result.error, 'Error: etcdserver: too many operations in txn request');
      assert.equal(server().kv.store.revision, revision);
    });
  });

  describe(`etcdctl (${kind}): member and endpoint commands`, () => {
    const { server, run } = withServer(kind);

    it('member list shows the member as etcd does', async () => {
      const id = hexId(memberIdOf('n1'));
      assert.equal(
        (await run(['member', 'list'])).stdout,
        `${id}, started, n1, http://127.0.0.1:2380, http://${server().endpoint}, false\n`,
      );
    });

    it('member add --learner, then promote, add again, remove', async () => {
      const added = await run(['member', 'add', 'n2', '--learner', '--peer-urls=http://127.0.0.1:2390']);
      const id = /Member ([0-9a-f]+) added to cluster ([0-9a-f]+)/.exec(added.stdout)?.[1];
      assert.ok(id, added.stdout + added.stderr);
      assert.match(added.stdout, /ETCD_INITIAL_CLUSTER="n1=http:\/\/127.0.0.1:2380,n2=http:\/\/127.0.0.1:2390"/);
      assert.match(
        (await run(['member', 'list'])).stdout,
        new RegExp(`^${id}, unstarted, , http://127.0.0.1:2390, , true$`, 'm'),
      );
      assert.equal(
        (await run(['member', 'promote', id])).error,
        'Error: etcdserver: can only promote a learner member which is in sync with leader',
      );
      assert.equal(
        (await run(['member', 'promote', hexId(memberIdOf('n1'))])).error,
        'Error: etcdserver: can only promote a learner member',
        "promoting a voter is etcd's error for it",
      );
      const again = await run(['member', 'add', 'n3', '--peer-urls=http://127.0.0.1:2390']);
      assert.equal(again.error, 'Error: etcdserver: Peer URLs already exists');
      assert.match((await run(['member', 'remove', id])).stdout, new RegExp(`Member ${id} removed from cluster`));
      assert.equal((await run(['member', 'remove', id])).error, 'Error: etcdserver: member not found');
    });

    it('endpoint status reports the member as leader with its raft indexes', async () => {
      await run(['put', 'x', 'y']);
      const line = (await run(['endpoint', 'status'])).stdout.replace(/\n$/, '');
      const store = server().kv.store;
      const index = store.appliedIndex;
      assert.match(
        line,
        new RegExp(
          `^${server().endpoint}, ${hexId(memberIdOf('n1'))}, 0\\.1\\.0, \\d+ B, true, false, 1, ${index}, ${index}, $`,
        ),
      );
    });

    it('endpoint health reads through the KV API', async () => {
      assert.match((await run(['endpoint', 'health'])).stderr, /is healthy: successfully committed proposal/);
    });

    it('methods weft does not serve say so', async () => {
      assert.match((await run(['alarm', 'list'])).error, /Unimplemented desc = weft does not serve Maintenance.Alarm/);
      assert.match((await run(['defrag'])).stderr, /weft does not serve Maintenance.Defragment/);
    });
  });

  describe(`etcdctl (${kind}): compaction`, () => {
    const { run } = withServer(kind);

    it('compaction makes older revisions unreadable; compacting again or ahead fails', async () => {
      // As on a new etcd: the store starts at revision 1, so the puts are revisions 2, 3 and 4.
      for (const value of ['1', '2', '3']) await run(['put', 'c', value]);
      assert.equal((await run(['compaction', '3'])).stdout, 'compacted revision 3\n');
      assert.equal(
        (await run(['get', 'c', '--rev=2'])).error,
        'Error: etcdserver: mvcc: required revision has been compacted',
      );
      assert.equal((await run(['get', 'c', '--rev=3', '--print-value-only'])).stdout, '2\n');
      assert.equal(
        (await run(['compaction', '3'])).error,
        'Error: etcdserver: mvcc: required revision has been compacted',
      );
      assert.equal(
        (await run(['compaction', '99'])).error,
        'Error: etcdserver: mvcc: required revision is a future revision',
      );
      assert.equal((await run(['compaction', '--physical', '4'])).stdout, 'compacted revision 4\n');
    });
  });
}
