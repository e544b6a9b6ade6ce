import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { checkLinearizability, kvModel } from '../src/sim/linearizability/index.ts';
import { KvWorkloadRunner } from './helpers/kv-workload.ts';
import { ProcessCluster } from './helpers/process-cluster.ts';
import { sleep } from './helpers/weft-process.ts';

describe('the replicated KV service, real processes on loopback', () => {
  const clusters: ProcessCluster[] = [];
  after(async () => {
    for (const cluster of clusters) await cluster.stopAll();
  });

  it('keeps serving through a SIGKILLed leader, the leader catches up on restart, and the history is linearizable', async (t) => {
    const cluster = await ProcessCluster.start(3);
    clusters.push(cluster);
    const workload = new KvWorkloadRunner((client) => cluster.endpoints(client), 4);
    const running = workload.run();

    await sleep(1_500);
    const leader = await cluster.leader();
    const killedAt = performance.now();
    await cluster.kill(leader, 'SIGKILL');
    t.diagnostic(`SIGKILLed the leader ${leader}`);
    await sleep(2_000);
    await cluster.restart(leader);
    await sleep(1_000);
    workload.stop();
    await running;

    const after = workload.acknowledged.filter((a) => a.atMs > killedAt);
    assert.ok(
      after.some((a) => a.kind !== 'get'),
      'writes were acknowledged after the leader was killed',
    );
    const survivor = cluster.ids.find((id) => id !== leader)!;
    await cluster.caughtUp(leader, survivor);

    const history = workload.recorder.history();
    const unknown = history.filter((op) => op.return === undefined).length;
    t.diagnostic(`${history.length} operations, ${unknown} with an unknown outcome`);
    const result = checkLinearizability(kvModel, history);
    assert.equal(result.verdict, 'linearizable', result.verdict === 'violation' ? result.explanation : result.verdict);
  });

  it('a 5-node cluster keeps serving with two nodes SIGKILLed', async () => {
    const cluster = await ProcessCluster.start(5);
    clusters.push(cluster);
    const leader = await cluster.leader();
    // A follower shows the leader's S-Raft ranking of the other four (it comes with the next heartbeat).
    const follower = cluster.ids.find((id) => id !== leader)!;
    let view: { leader: string; successorRanking: string[] | null; members: { id: string }[] };
    for (let tries = 0; ; tries += 1) {
      view = (await (await fetch(`${cluster.httpUrl(follower)}/v1/cluster`)).json()) as typeof view;
      if (view.successorRanking !== null || tries === 50) break;
      await sleep(100);
    }
    assert.deepEqual(
      [...(view.successorRanking ?? [])].sort(),
      view.members
        .map((m) => m.id)
        .filter((id) => id !== view.leader)
        .sort(),
    );
    const victims = cluster.ids
      .filter((id) => id !== leader)
      .slice(0, 1)
      .concat(leader);
    for (const id of victims) await cluster.kill(id, 'SIGKILL');
    const workload = new KvWorkloadRunner((client) => cluster.endpoints(client), 2);
    const running = workload.run();
    await sleep(2_000);
    workload.stop();
    await running;
    assert.ok(workload.acknowledged.filter((a) => a.kind !== 'get').length > 0, 'writes succeed with 3 of 5 alive');
    const result = checkLinearizability(kvModel, workload.recorder.history());
    assert.equal(result.verdict, 'linearizable');
  });
});
