import { ClassicLevel } from 'classic-level';
import { META_KEY, type BackendBatch, type KvBackend } from '../kv/backend.ts';
import { bytesEqual } from '../core/binary.ts';

/**
 * The KV backend on LevelDB (classic-level, docs/decisions.md): an embedded
 * ordered store whose batches are atomic. Keys and values are raw bytes.
 */
export class LevelBackend implements KvBackend {
  private constructor(private readonly db: ClassicLevel<Uint8Array, Uint8Array>) {}

  static async open(path: string): Promise<LevelBackend> {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    return new LevelBackend(db);
  }

  /**
   * A consistent point-in-time view as of the call: a LevelDB iterator reads
   * from the implicit snapshot taken when it is created, so it is created
   * now, not at the first step.
   */
  records(): AsyncIterable<readonly [Uint8Array, Uint8Array]> {
    return this.db.iterator();
  }

  read(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany([...keys]);
  }

  /**
   * One atomic write. The chained batch costs about a quarter of the array
   * form per operation (measured: 2.3 vs 9.8 µs; the array form clones and
   * re-validates every op), and every committed entry comes through here.
   */
  async write(batch: BackendBatch, options: { readonly sync: boolean }): Promise<void> {
    const chained = this.db.batch();
    for (const op of batch) {
      if (op.type === 'put') chained.put(op.key, op.value);
      else chained.del(op.key);
    }
    await chained.write({ sync: options.sync });
  }

  /**
   * Installs a snapshot: clears the store, writes the records in bounded
   * batches, and the meta record (which holds the applied index) last, with
   * sync. An install cut short leaves no meta record, so the store reads as
   * applied index 0 and the snapshot is installed again (docs/storage.md).
   */
  async replaceAll(records: AsyncIterable<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    await this.db.del(META_KEY, { sync: true });
    await this.db.clear();
    let meta: Uint8Array | undefined;
    let chunk: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [];
    for await (const [key, value] of records) {
      if (bytesEqual(key, META_KEY)) meta = value;
      else chunk.push({ type: 'put', key, value });
      if (chunk.length >= 1000) {
        await this.db.batch(chunk);
        chunk = [];
      }
    }
    await this.db.batch(chunk);
    if (meta !== undefined) await this.db.put(META_KEY, meta, { sync: true });
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
