// Membership changes carry no request id, so a retry of one whose answer was
// lost is refused for what the first attempt did. The client then asks for the
// member list and reports the change made. Only outcomes are asserted.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { NotLeaderError, WeftError } from '../core/errors.ts';
import { memberIdOf } from '../core/ids.ts';
import { delegate, losingFirstAnswer, rejectsWith, serve } from '../api/testing/etcd-fakes.ts';
import { SingleNodeKv } from '../api/testing/single-node-kv.ts';
import type { ClusterService } from '../node/kv-service.ts';
import { KvClient } from './kv-client.ts';

/** A single node whose learners can be promoted (SingleNodeKv's never catch up). */
function promoting(store: SingleNodeKv): ClusterService {
  const promoted = new Set<bigint>();
  const members = async () => {
    const list = await store.members();
    return { ...list, response: list.response.map((m) => (promoted.has(m.id) ? { ...m, isLearner: false } : m)) };
  };
  return {
    members,
    addMember: (request, options) => store.addMember(request, options),
    removeMember: (id, options) => store.removeMember(id, options),
    status: (options) => store.status(options),
    promoteMember: async (id) => {
      const member = (await members()).response.find((m) => m.id === id);
      if (member === undefined) throw new WeftError('MEMBER_NOT_FOUND', 'no such member');
      if (!member.isLearner) throw new WeftError('MEMBER_NOT_LEARNER', 'can only promote a learner member');
      promoted.add(id);
      return members();
    },
  };
}

/** Refuses `apply`'s first call without applying it, as a follower that lost its leader does. */
function refusingFirst<A extends unknown[], R>(apply: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let calls = 0;
  return async (...args: A) => {
    if (calls++ === 0) throw new NotLeaderError('');
    return apply(...args);
  };
}

/** Runs `test` with a client of a single node whose ClusterService is `cluster`. */
async function withClient(cluster: ClusterService, test: (client: KvClient) => Promise<void>): Promise<void> {
  const server = await serve(delegate(new SingleNodeKv()), cluster);
  const client = new KvClient({ endpoints: [server.endpoint], backoffMs: 1 });
  try {
    await test(client);
  } finally {
    client.close();
    server.stop();
  }
}

const n4 = { peerUrls: ['http://127.0.0.1:4004'], isLearner: true, name: 'n4' };

describe('KvClient membership changes whose answer was lost', () => {
  it('a remove applied by the first attempt: the retry finds no member, and the call succeeds', async () => {
    const store = new SingleNodeKv();
    await store.addMember(n4);
    const remove = losingFirstAnswer(store.removeMember.bind(store));
    await withClient({ ...promoting(store), removeMember: remove.call }, async (client) => {
      const reply = await client.memberRemove(memberIdOf('n4'));
      assert.equal(remove.calls(), 2, 'the remove was sent twice');
      assert.deepEqual(
        reply.response.map((m) => m.name),
        ['n1'],
      );
    });
  });

  it('an add applied by the first attempt: the retry finds the member there, and the call returns it', async () => {
    const store = new SingleNodeKv();
    const add = losingFirstAnswer(store.addMember.bind(store));
    await withClient({ ...promoting(store), addMember: add.call }, async (client) => {
      const reply = await client.memberAdd('http://127.0.0.1:4004/', { learner: true, name: 'n4' });
      assert.equal(add.calls(), 2, 'the add was sent twice');
      assert.deepEqual([reply.response.member.id, reply.response.member.isLearner], [memberIdOf('n4'), true]);
      assert.equal((await store.members()).response.length, 2, 'and applied once');
    });
  });

  it('a promote applied by the first attempt: the retry finds a voter, and the call succeeds', async () => {
    const store = new SingleNodeKv();
    await store.addMember(n4);
    const cluster = promoting(store);
    const promote = losingFirstAnswer(cluster.promoteMember);
    await withClient({ ...cluster, promoteMember: promote.call }, async (client) => {
      const reply = await client.memberPromote(memberIdOf('n4'));
      assert.equal(promote.calls(), 2, 'the promote was sent twice');
      assert.equal(reply.response.find((m) => m.id === memberIdOf('n4'))?.isLearner, false);
    });
  });

  it('after a plain refusal (no leader), a refusal is the answer: removing a member that never was fails', async () => {
    const store = new SingleNodeKv();
    await withClient(
      { ...promoting(store), removeMember: refusingFirst(store.removeMember.bind(store)) },
      async (client) => {
        await rejectsWith(client.memberRemove(memberIdOf('n9')), 'MEMBER_NOT_FOUND');
      },
    );
  });

  it('after a lost answer, a refusal the member list does not explain is still the answer', async () => {
    const store = new SingleNodeKv();
    await store.addMember(n4);
    // The first attempt is lost before anything is applied; the retry finds a member with that address.
    let calls = 0;
    const addMember: ClusterService['addMember'] = async (request, options) => {
      if (calls++ === 0) throw new WeftError('TIMEOUT', 'the answer was lost');
      return store.addMember(request, options);
    };
    await withClient({ ...promoting(store), addMember }, async (client) => {
      // n4 is there as a learner; asked to add it as a voter, the retry is refused and the list shows no voter.
      await rejectsWith(client.memberAdd('http://127.0.0.1:4004', { name: 'n4' }), 'MEMBER_EXISTS');
    });
  });
});
