import { compareBytes } from '../core/binary.ts';
import type { BackendBatch, KvBackend } from './backend.ts';
import { bytesKey } from './key-range.ts';

/** A KvBackend in memory: for tests and the simulator. Writes are atomic because they are synchronous; `sync` means nothing here. */
export class MemoryBackend implements KvBackend {
  private readonly data = new Map<string, readonly [Uint8Array, Uint8Array]>();

  records(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    // Copied now: the view is the store as of the call.
    const sorted = [...this.data.values()].sort((a, b) => compareBytes(a[0], b[0]));
    return (async function* () {
      yield* sorted;
    })();
  }

  async read(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((key) => this.data.get(bytesKey(key))?.[1]);
  }

  async write(batch: BackendBatch, _options: { readonly sync: boolean }): Promise<void> {
    for (const op of batch) {
      if (op.type === 'put') this.data.set(bytesKey(op.key), [op.key, op.value]);
      else this.data.delete(bytesKey(op.key));
    }
  }

  async replaceAll(records: AsyncIterable<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    const next = new Map<string, readonly [Uint8Array, Uint8Array]>();
    for await (const [key, value] of records) next.set(bytesKey(key), [key, value]);
    this.data.clear();
    for (const [name, record] of next) this.data.set(name, record);
  }

  async close(): Promise<void> {}
}
