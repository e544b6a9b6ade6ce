import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { KvClient } from '../src/client/kv-client.ts';
import { ProcessCluster } from './helpers/process-cluster.ts';
import { sleep } from './helpers/weft-process.ts';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('automatic compaction, real processes on loopback', () => {
  let cluster: ProcessCluster | undefined;
  after(async () => {
    await cluster?.stopAll();
  });

  it('--auto-compaction-retention 2s: the leader compacts history older than 2 s, on every member', async () => {
    cluster = await ProcessCluster.start(3, ['--auto-compaction-retention', '2s']);
    const client = new KvClient({ endpoints: cluster.endpoints() });
    try {
      const first = await client.put(text('k'), text('v1'));
      for (let i = 2; i <= 5; i += 1) await client.put(text('k'), text(`v${i}`));
      const old = first.header.revision;
      // Readable now; compacted once the revision is 2 s old and a compaction round (every 200 ms) has run.
      assert.equal((await client.get(text('k'), { revision: old })).response.kvs.length, 1);
      const deadline = performance.now() + 20_000;
      let compacted = false;
      while (!compacted && performance.now() < deadline) {
        await sleep(200);
        compacted = await client.get(text('k'), { revision: old }).then(
          () => false,
          (error: unknown) => /compacted/.test(String(error)),
        );
      }
      assert.ok(compacted, `revision ${old} was compacted within 20 s`);
      // The compaction went through Raft: every member refuses the old revision, each from its own store.
      for (const endpoint of cluster.endpoints()) {
        const member = new KvClient({ endpoints: [endpoint] });
        try {
          await assert.rejects(member.get(text('k'), { revision: old, consistency: 'serializable' }), /compacted/);
          assert.equal(
            new TextDecoder().decode((await member.get(text('k'))).response.kvs[0]!.value),
            'v5',
            'the newest value stays',
          );
        } finally {
          member.close();
        }
      }
    } finally {
      client.close();
    }
  });
});
