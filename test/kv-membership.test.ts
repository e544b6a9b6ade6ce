import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KvClient } from '../src/client/kv-client.ts';
import { hexId, memberIdOf } from '../src/core/ids.ts';
import { etcdctl, requireEtcdctl } from './helpers/etcdctl.ts';
import { ProcessCluster } from './helpers/process-cluster.ts';
import { runWeft, sleep } from './helpers/weft-process.ts';

describe('membership at run time and etcdctl, real processes on loopback', () => {
  const clusters: ProcessCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.stopAll();
  });

  it('etcdctl drives the cluster; a learner joins from a snapshot and is promoted; a removed member stops serving', async () => {
    requireEtcdctl();
    const cluster = await ProcessCluster.start(3, ['--snapshot-entries', '100']);
    clusters.push(cluster);
    const endpoints = cluster.endpoints().join(',');

    // etcdctl 3.4 against the whole cluster.
    assert.equal((await etcdctl(endpoints, ['put', 'color', 'red'])).stdout, 'OK\n');
    const revision = Number(
      JSON.parse((await etcdctl(endpoints, ['get', 'color', '-w', 'json'])).stdout).header.revision,
    );
    await etcdctl(endpoints, ['put', 'color', 'blue']);
    assert.equal(
      (await etcdctl(endpoints, ['get', 'color', '--rev', String(revision), '--print-value-only'])).stdout,
      'red\n',
    );
    assert.equal((await etcdctl(endpoints, ['get', 'col', '--prefix'])).stdout, 'color\nblue\n');
    const txn = await etcdctl(endpoints, ['txn'], 'value("color") = "blue"\n\nput color green\n\nput color black\n\n');
    assert.match(txn.stdout, /^SUCCESS\n\nOK\n/);
    assert.equal((await etcdctl(endpoints, ['del', 'color'])).stdout, '1\n');
    assert.match((await etcdctl(endpoints, ['compaction', String(revision + 1)])).stdout, /compacted revision/);
    const old = await etcdctl(endpoints, ['get', 'color', '--rev', String(revision)]);
    assert.equal(old.error, 'Error: etcdserver: mvcc: required revision has been compacted');
    await untilOneLeader(endpoints);

    // Enough writes for several snapshots: a new member must start from one.
    const client = new KvClient({ endpoints: cluster.endpoints() });
    for (let i = 0; i < 300; i += 1) await client.put(`bulk/${i}`, `v${i}`);

    const portless = await runWeft(['member', 'add', 'n4', '127.0.0.1', '--learner', '--endpoints', endpoints]);
    assert.equal(portless.code, 2, 'a peer address without a port is refused before anything is asked');
    assert.match(portless.stderr, /"127\.0\.0\.1" is not host:port/);
    const added = await runWeft([
      'member',
      'add',
      'n4',
      cluster.peerAddress('n4'),
      '--learner',
      '--endpoints',
      endpoints,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const start =
      /Start it with: weft node --id n4 --host (\S+) --peer-port (\d+) --cluster-state existing --peers (\S+)/.exec(
        added.stdout,
      );
    assert.deepEqual(start?.slice(1, 3), cluster.peerAddress('n4').split(':'), added.stdout);
    // Added, not started: listed as etcd lists it, without a name or a client address; promote and remove
    // still take its node id.
    const n4 = `http://${cluster.peerAddress('n4').replace(/\./g, '\\.')}`;
    const unstarted = await runWeft(['member', 'list', '--endpoints', endpoints]);
    assert.equal(unstarted.code, 0, unstarted.stderr);
    assert.match(unstarted.stdout, new RegExp(`^${hexId(memberIdOf('n4'))} +unstarted +${n4} +true$`, 'm'));
    const peers = ['n1', 'n2', 'n3', 'n4'].map((id) => `${id}=${cluster.peerAddress(id)}`).join(',');
    cluster.define('n4', ['--cluster-state', 'existing', '--peers', peers, '--snapshot-entries', '100']);
    cluster.launch('n4');
    await cluster.waitReady('n4');
    await cluster.caughtUp('n4', await cluster.leader());
    const snapshots = readdirSync(join(cluster.dataDir('n4'), 'snap')).filter((name) => name.endsWith('.snap'));
    assert.ok(snapshots.length > 0, 'the learner was brought up from a snapshot');
    const serializable = await new KvClient({ endpoints: [cluster.peerAddress('n4')] }).get('bulk/', {
      prefix: true,
      consistency: 'serializable',
    });
    assert.equal(serializable.response.count, 300, 'the learner holds every key');

    const promoted = await runWeft(['member', 'promote', 'n4', '--endpoints', endpoints]);
    assert.equal(promoted.code, 0, promoted.stderr);
    const list = await etcdctl(endpoints, ['member', 'list']);
    assert.equal(list.stdout.trim().split('\n').length, 4);
    assert.doesNotMatch(list.stdout, /, true\n/, 'no learner left');
    const listed = await runWeft(['member', 'list', '--endpoints', endpoints]);
    assert.equal(listed.code, 0, listed.stderr);
    for (const id of ['n1', 'n2', 'n3', 'n4']) {
      // These nodes serve the etcd API on their peer ports: each told the others so.
      const url = `http://${cluster.peerAddress(id).replace(/\./g, '\\.')}`;
      const row = `^${hexId(memberIdOf(id))} +started +${id} +${url} +${url} +false$`;
      await untilListed(endpoints, new RegExp(row, 'm'));
    }

    const leader = await cluster.leader();
    const removed = cluster.ids.find((id) => id !== leader && id !== 'n4')!;
    const removal = await runWeft(['member', 'remove', removed, '--endpoints', endpoints]);
    assert.equal(removal.code, 0, removal.stderr);
    let health = await cluster.health(removed);
    for (let waited = 0; health?.kv?.voters.includes(removed) !== false && waited < 10_000; waited += 100) {
      await sleep(100);
      health = await cluster.health(removed);
    }
    const answer = await fetch(`${cluster.httpUrl(removed)}/health`);
    assert.equal(answer.status, 503, 'a removed member reports itself unhealthy');
    assert.match(((await answer.json()) as { unhealthy: string }).unhealthy, /removed/);
    const refused = await new KvClient({ endpoints: [cluster.peerAddress(removed)], retries: 0 }).put('x', 'y').then(
      () => 'accepted',
      (error: Error) => error.message,
    );
    // etcd's answer from a removed member (ErrStopped), which etcd clients know.
    assert.match(refused, /etcdserver: server stopped/);
    client.close();
  });
});

/** `weft member list` until it shows `row`: a member tells the others where its clients connect within a second or so of starting. */
async function untilListed(endpoints: string, row: RegExp): Promise<void> {
  let last = '';
  for (let waited = 0; waited <= 10_000; waited += 200) {
    const listed = await runWeft(['member', 'list', '--endpoints', endpoints]);
    last = listed.stdout + listed.stderr;
    if (row.test(listed.stdout)) return;
    await sleep(200);
  }
  assert.match(last, row);
}

/**
 * `etcdctl endpoint status` until exactly one member says it leads. On a loaded machine a leader change can
 * be under way, and a deposed leader that has not heard yet still says it leads, but never in the term of
 * the new one: two leaders in one term would break Raft.
 */
async function untilOneLeader(endpoints: string): Promise<void> {
  type Status = { Status: { leader: string; raftTerm: number; header: { member_id: string } } };
  let leaders: Status[] = [];
  for (let waited = 0; waited <= 10_000; waited += 200) {
    const status = await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json']);
    leaders = (JSON.parse(status.stdout) as Status[]).filter((s) => s.Status.leader === s.Status.header.member_id);
    const terms = leaders.map((s) => s.Status.raftTerm);
    assert.equal(new Set(terms).size, terms.length, `two leaders in one term: ${status.stdout}`);
    if (leaders.length === 1) return;
    await sleep(200);
  }
  assert.equal(leaders.length, 1, 'endpoint status shows exactly one leader');
}
