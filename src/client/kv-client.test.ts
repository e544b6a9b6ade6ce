// The TypeScript client against weft's etcd API served in-process: every
// method, typed errors, retry across endpoints when one is down, a retried
// write applied once thanks to its request id, aborts and timeouts. No
// timing thresholds: only outcomes are asserted.
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { NotLeaderError, WeftError } from '../core/errors.ts';
import { memberIdOf } from '../core/ids.ts';
import { startEtcdTestServer, type EtcdTestServer } from '../api/testing/etcd-test-server.ts';
import { SingleNodeKv } from '../api/testing/single-node-kv.ts';
import type { KvService } from '../node/kv-service.ts';
import { backoffMs } from './backoff.ts';
import { delegate, losingFirstAnswer, rejectsWith, serve } from '../api/testing/etcd-fakes.ts';
import { KvClient } from './kv-client.ts';

const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

/** A loopback port nothing listens on: connections to it are refused. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `127.0.0.1:${port}`;
}

// Both servers a node can serve the etcd API with: its client port's and grpc-js's on the peer port.
for (const kind of ['client-port', 'peer-port'] as const) {
  describe(`KvClient against weft (${kind})`, () => {
    let server: EtcdTestServer;
    let client: KvClient;
    before(async () => {
      server = await startEtcdTestServer({ server: kind });
      client = new KvClient({ endpoints: [`http://${server.endpoint}`] });
    });
    after(async () => {
      client.close();
      await server.stop();
    });

    it('put, get, get --prefix, delete', async () => {
      const put = await client.put('fruit/apple', 'red');
      assert.equal(put.header.revision, 2, 'a new store is at revision 1, as etcd');
      assert.equal(put.header.memberId, memberIdOf('n1'));
      await client.put('fruit/banana', 'yellow');
      assert.equal((await client.put('fruit/apple', 'green', { prevKv: true })).response.prevKv?.version, 1);
      const one = await client.get('fruit/apple');
      assert.deepEqual([text(one.response.kvs[0]?.value), one.response.kvs[0]?.version], ['green', 2]);
      const all = await client.get('fruit/', { prefix: true, consistency: 'serializable' });
      assert.deepEqual(
        all.response.kvs.map((kv) => text(kv.key)),
        ['fruit/apple', 'fruit/banana'],
      );
      assert.equal(text((await client.get('fruit/apple', { revision: 2 })).response.kvs[0]?.value), 'red');
      assert.equal((await client.get('', { prefix: true })).response.count, 2);
      assert.equal((await client.delete('fruit/', { prefix: true })).response.deleted, 2);
      assert.equal((await client.get('fruit/apple')).response.kvs.length, 0);
    });

    it('txn and compact', async () => {
      await client.put('lock', 'free');
      const taken = await client.txn({
        compare: [{ key: Buffer.from('lock'), result: 'equal', target: 'value', value: Buffer.from('free') }],
        success: [{ type: 'put', request: { key: Buffer.from('lock'), value: Buffer.from('mine') } }],
        failure: [{ type: 'range', request: { key: Buffer.from('lock') } }],
      });
      assert.equal(taken.response.succeeded, true);
      assert.equal(text((await client.get('lock')).response.kvs[0]?.value), 'mine');
      const revision = taken.header.revision;
      await client.compact(revision, { physical: true });
      await rejectsWith(client.get('lock', { revision: revision - 1 }), 'COMPACTED');
    });

    it('memberList and status', async () => {
      const members = await client.memberList();
      assert.deepEqual(
        members.response.map((m) => [m.id, m.name, m.clientUrls]),
        [[memberIdOf('n1'), 'n1', [`http://${server.endpoint}`]]],
      );
      const status = await client.status();
      assert.equal(status.leader, memberIdOf('n1'));
      assert.equal(status.raftAppliedIndex, server.kv.store.appliedIndex);
    });

    it('errors are typed: the weft code and the gRPC status', async () => {
      const future = await rejectsWith(client.get('x', { revision: 1_000_000 }), 'FUTURE_REV');
      assert.equal((future as { grpcStatus?: number }).grpcStatus, grpc.status.OUT_OF_RANGE);
      await rejectsWith(client.put('k'.repeat(4097), 'v'), 'KEY_TOO_LARGE');
      await rejectsWith(client.put('', 'v'), 'INVALID_REQUEST');
      await rejectsWith(client.put('big', Buffer.alloc(1024 * 1024 + 1)), 'VALUE_TOO_LARGE');
      // Over gRPC's send limit (etcd's client default, 2 MiB): refused before it leaves.
      await rejectsWith(client.put('huge', Buffer.alloc(2 * 1024 * 1024 + 1)), 'REQUEST_TOO_LARGE');
      // A client with a larger send limit meets the server's: etcd's --max-request-bytes plus 512 KiB.
      const limits = { maxSendBytes: 8 * 1024 * 1024, maxReceiveBytes: 1024 * 1024, maxReconnectBackoffMs: 100 };
      const eager = new KvClient({ endpoints: [server.endpoint], channelLimits: limits });
      try {
        await rejectsWith(eager.put('huge', Buffer.alloc(2 * 1024 * 1024 + 1)), 'REQUEST_TOO_LARGE');
      } finally {
        eager.close();
      }
      assert.equal((await client.get('big')).response.count + (await client.get('huge')).response.count, 0);
    });

    it('an aborted call rejects with ABORTED', async () => {
      const controller = new AbortController();
      controller.abort();
      await rejectsWith(client.put('a', 'b', { signal: controller.signal }), 'ABORTED');
    });

    it('bad endpoints are refused at construction', () => {
      assert.throws(() => new KvClient({ endpoints: [] }), /at least one endpoint/);
      assert.throws(() => new KvClient({ endpoints: ['https://h:1'] }), /not host:port/);
    });
  });
}

describe('KvClient retries', () => {
  it('moves to the next endpoint when one is down', async () => {
    const server = await startEtcdTestServer();
    const client = new KvClient({ endpoints: [await deadEndpoint(), server.endpoint], backoffMs: 1 });
    try {
      await client.put('k', 'v');
      assert.equal(text((await client.get('k')).response.kvs[0]?.value), 'v');
      assert.equal(server.kv.store.revision, 2);
    } finally {
      client.close();
      await server.stop();
    }
  });

  it('moves on from a member with no leader', async () => {
    const [leaderless, healthy] = [await startEtcdTestServer(), await startEtcdTestServer()];
    leaderless.kv.failWith = new NotLeaderError('');
    const retried: string[] = [];
    const client = new KvClient({
      endpoints: [leaderless.endpoint, healthy.endpoint],
      backoffMs: 1,
      onRetry: (failure, waitMs) => retried.push(`${failure.code} ${failure.endpoint} ${waitMs >= 0}`),
    });
    try {
      await client.put('k', 'v');
      assert.deepEqual([leaderless.kv.store.revision, healthy.kv.store.revision], [1, 2]);
      // The one failed attempt was told before the retry that succeeded.
      assert.deepEqual(retried, [`NOT_LEADER ${leaderless.endpoint} true`]);
    } finally {
      client.close();
      await Promise.all([leaderless.stop(), healthy.stop()]);
    }
  });

  it('gives up after its retries with the last error when every endpoint is down', async () => {
    const client = new KvClient({ endpoints: [await deadEndpoint(), await deadEndpoint()], retries: 3, backoffMs: 1 });
    try {
      await rejectsWith(client.get('k'), 'PEER_UNREACHABLE');
    } finally {
      client.close();
    }
  });

  it('a write whose answer was lost is retried with its request id and applies once', async () => {
    const store = new SingleNodeKv();
    const put = losingFirstAnswer(store.put.bind(store));
    const server = await serve({ ...delegate(store), put: put.call });
    const client = new KvClient({ endpoints: [server.endpoint], backoffMs: 1 });
    try {
      const reply = await client.put('once', 'v');
      assert.equal(put.calls(), 2, 'the put was sent twice');
      assert.equal(reply.header.revision, 2, 'the retry reports the first copy revision');
      assert.equal(store.store.revision, 2, 'and the store applied it once');
      assert.equal((await store.range({ key: Buffer.from('once') })).response.kvs[0]?.version, 1);
    } finally {
      client.close();
      server.stop();
    }
  });

  it('a txn whose answer was lost applies once; its retry says ALREADY_APPLIED, as its result was not kept', async () => {
    const store = new SingleNodeKv();
    const txn = losingFirstAnswer(store.txn.bind(store));
    const server = await serve({ ...delegate(store), txn: txn.call });
    const client = new KvClient({ endpoints: [server.endpoint], backoffMs: 1 });
    try {
      const put = { type: 'put' as const, request: { key: Buffer.from('t'), value: Buffer.from('v') } };
      await rejectsWith(client.txn({ compare: [], success: [put], failure: [] }), 'ALREADY_APPLIED');
      assert.deepEqual([txn.calls(), store.store.revision], [2, 2], 'sent twice, applied once');
    } finally {
      client.close();
      server.stop();
    }
  });

  it('a call that gets no answer ends with TIMEOUT', async () => {
    const silent: KvService = { ...delegate(new SingleNodeKv()), range: () => new Promise<never>(() => {}) };
    const server = await serve(silent);
    const client = new KvClient({ endpoints: [server.endpoint], timeoutMs: 300 });
    try {
      await rejectsWith(client.get('k'), 'TIMEOUT');
    } finally {
      client.close();
      server.stop();
    }
  });

  it('aborting a call cancels it on the server: the KvService sees its signal abort', async () => {
    let received: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (received = resolve));
    let serverSaw: (reason: string) => void = () => {};
    const seen = new Promise<string>((resolve) => (serverSaw = resolve));
    const waiting: KvService = {
      ...delegate(new SingleNodeKv()),
      range: (_request, options = {}) =>
        new Promise<never>((_resolve, reject) => {
          options.signal?.addEventListener('abort', () => {
            serverSaw('aborted');
            reject(new WeftError('ABORTED', 'the caller went away'));
          });
          received();
        }),
    };
    const server = await serve(waiting);
    const client = new KvClient({ endpoints: [server.endpoint] });
    const controller = new AbortController();
    try {
      const call = client.get('k', { signal: controller.signal });
      await arrived;
      controller.abort();
      await rejectsWith(call, 'ABORTED');
      assert.equal(await seen, 'aborted');
    } finally {
      client.close();
      server.stop();
    }
  });

  it('an abort while retrying stops the call with ABORTED', async () => {
    const client = new KvClient({ endpoints: [await deadEndpoint()], retries: 1000, backoffMs: 5 });
    const controller = new AbortController();
    const call = client.get('k', { signal: controller.signal });
    controller.abort();
    try {
      await rejectsWith(call, 'ABORTED');
    } finally {
      client.close();
    }
  });
});

describe('back-off', () => {
  it('doubles from the base up to the cap, half of it random', () => {
    assert.deepEqual(
      [1, 2, 3, 10].map((attempt) => backoffMs(attempt, 25, 1000, () => 0)),
      [12.5, 25, 50, 500],
    );
    assert.equal(
      backoffMs(10, 25, 1000, () => 1),
      1000,
    );
  });
});
