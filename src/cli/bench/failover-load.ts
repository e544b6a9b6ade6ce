import { Worker } from 'node:worker_threads';
import { KvClient } from '../../client/kv-client.ts';

/** What the main thread asks of the load thread, and what it answers. */
export type LoadRequest =
  | {
      readonly type: 'start';
      readonly endpoints: readonly string[];
      readonly clients: number;
      readonly valueSizeBytes: number;
    }
  | { readonly type: 'stop' };
export type LoadReply = { readonly type: 'ready' } | { readonly type: 'started' } | { readonly type: 'stopped' };

/**
 * The failover bench's writers, kept in a thread of their own. In the
 * probe's thread their requests and replies (over a thousand a second)
 * queued ahead of the answer the probe waits for, and the probe saw the
 * first commit after a kill 7-12 ms after the member had sent it at the
 * median, up to 59 ms (docs/results.md): the client's lag, not the
 * cluster's. Here the probe's thread has nothing else to do.
 */
export class LoadThread {
  /** The requests waiting for their answer, oldest first: the thread answers in order. */
  private readonly waiting: { expected: LoadReply['type']; resolve(): void; reject(error: Error): void }[] = [];
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: LoadReply) => this.answer(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the failover load thread exited with status ${code}`)));
  }

  /** Resolves once the thread has loaded its modules, so that the first trial's load does not wait for them. */
  static async start(): Promise<LoadThread> {
    const thread = new LoadThread(new Worker(new URL('./failover-load-worker.js', import.meta.url)));
    await thread.expect('ready');
    return thread;
  }

  /** Start `clients` writers on the endpoints; resolves once they have begun. */
  async startWriters(endpoints: readonly string[], clients: number, valueSizeBytes: number): Promise<void> {
    const answered = this.expect('started');
    this.worker.postMessage({ type: 'start', endpoints, clients, valueSizeBytes } satisfies LoadRequest);
    await answered;
  }

  /** Resolves once every writer has finished its last request. */
  async stopWriters(): Promise<void> {
    const answered = this.expect('stopped');
    this.worker.postMessage({ type: 'stop' } satisfies LoadRequest);
    await answered;
  }

  async close(): Promise<void> {
    this.fail(new Error('the failover load thread was closed'));
    await this.worker.terminate();
  }

  private expect(expected: LoadReply['type']): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.push({ expected, resolve, reject }));
  }

  private answer(reply: LoadReply): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) return this.fail(new Error(`the failover load thread said ${reply.type} unasked`));
    if (reply.type === waiter.expected) waiter.resolve();
    else waiter.reject(new Error(`the failover load thread answered ${reply.type}, not ${waiter.expected}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

/**
 * Writers keeping a cluster busy: each overwrites its own 100 keys with
 * `value`, one request at a time, and carries on through errors (the
 * leader's death is the point). Writer c lists the endpoints from the c-th
 * on, so the writes spread over the members.
 */
export function startWriters(
  endpoints: readonly string[],
  clients: number,
  value: Uint8Array,
): { stop(): Promise<void> } {
  let stopped = false;
  const writers = Array.from({ length: clients }, async (_, c) => {
    const client = new KvClient({ endpoints: rotate(endpoints, c), timeoutMs: 2_000, backoffMs: 2, backoffMaxMs: 50 });
    for (let i = 0; !stopped; i += 1) await client.put(`failover-load/${c}/${i % 100}`, value).catch(() => undefined);
    client.close();
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(writers);
    },
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}
