import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Entry } from '../raft/types.ts';
import { BinaryWriter } from '../core/binary.ts';
import { dedupKey, RECORD_PREFIX } from './backend.ts';
import { encodeCommand } from './command-codec.ts';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.ts';
import { MemoryBackend } from './memory-backend.ts';
import { MvccStore, type ApplyResult } from './mvcc-store.ts';

// The de-duplication window lives in memory; the backend keeps one record per
// applied batch with that batch's request ids, deleted once all of them have
// left the window. Whatever the batches and restarts, the decisions must be
// those of a store that applied one entry at a time and never stopped.

const window = 4;
const limits: KvLimits = { ...DEFAULT_KV_LIMITS, dedupWindowRequests: window };
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function put(index: number, requestId: number): Entry {
  const data = encodeCommand({
    requestId,
    command: { op: 'put', request: { key: bytes('k'), value: bytes(`${index}`) } },
  });
  return { term: 1, index, kind: 'normal', data };
}

const decision = (result: ApplyResult): string =>
  result.outcome.status === 'duplicate' ? `duplicate of ${result.outcome.revision}` : result.outcome.status;

async function dedupRecords(backend: MemoryBackend): Promise<number> {
  let count = 0;
  for await (const [key] of backend.records()) if (key[0] === RECORD_PREFIX.dedup) count += 1;
  return count;
}

describe('dedup records', () => {
  it('batched and restored at any point, a store decides duplicates as one that never stopped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 20, maxLength: 80 }),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 7 }), restart: fc.boolean() }), { minLength: 80 }),
        async (requestIds, batches) => {
          const reference = new MvccStore(limits);
          const backend = new MemoryBackend();
          let store = new MvccStore(limits);
          const entries = requestIds.map((id, i) => put(i + 1, id));
          let next = 0;
          for (const { size, restart } of batches) {
            if (next >= entries.length) break;
            const batch = entries.slice(next, next + size);
            next += batch.length;
            const applied = store.applyEntries(batch);
            await backend.write(applied.writes, { sync: false });
            const expected = reference.applyEntries(batch).results.map(decision);
            assert.deepEqual(applied.results.map(decision), expected);
            // Every record kept holds an id still in the window, so there are at most as many as ids.
            assert.ok((await dedupRecords(backend)) <= window);
            if (restart) store = await MvccStore.restore(backend.records(), limits);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads the one-record-per-id layout of older stores', async () => {
    const backend = new MemoryBackend();
    const store = new MvccStore(limits);
    await backend.write(store.applyEntries([put(1, 71), put(2, 72)]).writes, { sync: false });
    // Rewritten as stores wrote it before: one record per request id, keyed by its own seq.
    const legacy = (seq: number, requestId: number, revision: number) => ({
      type: 'put' as const,
      key: dedupKey(seq),
      value: new BinaryWriter(16).uvarint(requestId).uvarint(revision).finish(),
    });
    await backend.write([{ type: 'del', key: dedupKey(1) }, legacy(1, 71, 1), legacy(2, 72, 2)], { sync: false });
    const restored = await MvccStore.restore(backend.records(), limits);
    const results = restored.applyEntries([put(3, 71), put(4, 72), put(5, 73)]).results.map(decision);
    assert.deepEqual(results, ['duplicate of 1', 'duplicate of 2', 'ok']);
  });

  it('a store restored with a smaller window deletes the records it no longer needs with its next batch', async () => {
    const backend = new MemoryBackend();
    const large = new MvccStore(limits);
    for (let i = 1; i <= 4; i += 1) await backend.write(large.applyEntries([put(i, 100 + i)]).writes, { sync: false });
    assert.equal(await dedupRecords(backend), 4);
    const small = await MvccStore.restore(backend.records(), { ...limits, dedupWindowRequests: 2 });
    await backend.write(small.applyEntries([put(5, 0)]).writes, { sync: false });
    assert.equal(await dedupRecords(backend), 2);
    const [old, kept] = small.applyEntries([put(6, 102), put(7, 104)]).results;
    assert.equal(old?.outcome.status, 'ok', 'id 102 left the smaller window');
    assert.equal(kept?.outcome.status, 'duplicate');
  });
});
