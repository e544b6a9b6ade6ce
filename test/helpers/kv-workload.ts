import { KvClient } from '../../src/client/kv-client.ts';
import { HistoryRecorder, type KvInput, type KvOutput } from '../../src/sim/linearizability/index.ts';
import { createPrng } from '../../src/core/prng.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Clients that read and write a few keys through the etcd API of a real
 * cluster and record every operation (call and return times from one clock)
 * for the linearizability checker. An operation whose client gave up (timed
 * out, all endpoints failed) is recorded with an unknown outcome: it may or
 * may not have taken effect.
 */
export class KvWorkloadRunner {
  readonly recorder = new HistoryRecorder<KvInput, KvOutput>(() => performance.now());
  acknowledged: { atMs: number; kind: string }[] = [];
  private stopped = false;

  constructor(
    private readonly endpointsFor: (client: number) => string[],
    private readonly clients: number,
    private readonly keys: readonly string[] = ['a', 'b', 'c'],
  ) {}

  run(): Promise<void> {
    return Promise.all(Array.from({ length: this.clients }, (_, c) => this.client(c + 1))).then(() => undefined);
  }

  stop(): void {
    this.stopped = true;
  }

  private async client(id: number): Promise<void> {
    const client = new KvClient({
      endpoints: this.endpointsFor(id),
      timeoutMs: 3_000,
      backoffMs: 10,
      backoffMaxMs: 100,
    });
    const prng = createPrng(id * 7919);
    for (let seq = 1; !this.stopped; seq += 1) {
      const key = prng.pick(this.keys);
      const value = `${id}.${seq}`;
      const roll = prng.next();
      const input: KvInput =
        roll < 0.4
          ? { kind: 'get', key }
          : roll < 0.7
            ? { kind: 'put', key, value }
            : roll < 0.9
              ? {
                  kind: 'cas',
                  key,
                  expected: prng.chance(0.3) ? null : `${prng.int(1, this.clients)}.${prng.int(1, seq)}`,
                  value,
                }
              : { kind: 'delete', key };
      const op = this.recorder.invoke(id, input);
      try {
        const output = await execute(client, input);
        this.recorder.ok(op, output);
        this.acknowledged.push({ atMs: performance.now(), kind: input.kind });
      } catch {
        this.recorder.unknown(op);
      }
    }
    client.close();
  }
}

async function execute(client: KvClient, input: KvInput): Promise<KvOutput> {
  switch (input.kind) {
    case 'get': {
      const reply = await client.get(input.key);
      const kv = reply.response.kvs[0];
      return { kind: 'value', value: kv === undefined ? null : decoder.decode(kv.value) };
    }
    case 'put':
      await client.put(input.key, input.value);
      return { kind: 'ok' };
    case 'delete':
      await client.delete(input.key);
      return { kind: 'ok' };
    case 'cas': {
      const key = encoder.encode(input.key);
      const reply = await client.txn({
        compare:
          input.expected === null
            ? [{ key, target: 'create', result: 'equal', value: 0 }]
            : [{ key, target: 'value', result: 'equal', value: encoder.encode(input.expected) }],
        success: [{ type: 'put', request: { key, value: encoder.encode(input.value) } }],
        failure: [],
      });
      return reply.response.succeeded ? { kind: 'ok' } : { kind: 'failed' };
    }
  }
}
