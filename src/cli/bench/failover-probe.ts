import { Worker } from 'node:worker_threads';
import { KvClient } from '../../client/kv-client.ts';

/** One thing the probe met: a failed attempt, or the write that committed. */
export interface ProbeEvent {
  /** performance.now() of the thread that reads it */
  readonly at: number;
  readonly text: string;
}

export interface ProbeResult {
  /** When the first write committed, on the same clock as the events'. */
  readonly committedAt: number;
  readonly events: ProbeEvent[];
}

export type ProbeRequest = {
  readonly endpoints: readonly string[];
  readonly valueSizeBytes: number;
  /** A write before the trials, to load and warm the client's code in this thread: it is not timed. */
  readonly warmUp?: true;
};
export type ProbeReply =
  | { readonly type: 'ready' }
  | { readonly type: 'committed'; readonly result: ProbeResult }
  | { readonly type: 'failed'; readonly message: string };

const probeGiveUpMs = 30_000;
/** Probes the thread makes, untimed, before the first trial (each with a fresh client, as a trial's). */
const warmUpProbes = 10;

/**
 * Write with a fresh client until a write commits, noting each attempt, each
 * retry and why, and the member that answered (to keys `keyPrefix/attempt`).
 * `now` is the clock the events are stamped with.
 */
export async function probeUntilWrite(
  endpoints: readonly string[],
  value: Uint8Array,
  now: () => number = () => performance.now(),
  keyPrefix = 'failover-probe',
): Promise<ProbeResult> {
  const events: ProbeEvent[] = [];
  const note = (text: string): void => void events.push({ at: now(), text });
  const client = new KvClient({
    endpoints: [...endpoints],
    timeoutMs: 200,
    retries: 100,
    backoffMs: 1,
    backoffMaxMs: 5,
    onRetry: (failure, waitMs) => note(`${failure.code} from ${failure.endpoint}, again in ${waitMs} ms`),
  });
  const deadline = performance.now() + probeGiveUpMs;
  try {
    for (let attempt = 0; performance.now() < deadline; attempt += 1) {
      note(`write ${attempt} sent`);
      try {
        const { header } = await client.put(`${keyPrefix}/${attempt}`, value);
        note(`write ${attempt} committed; member ${header.memberId.toString(16)} answered`);
        return { committedAt: now(), events };
      } catch (error) {
        // Not yet: no leader, or the dead one. Try again at once.
        note(`write ${attempt} failed: ${(error as Error).message}`);
      }
    }
    throw new Error(`no write committed within ${probeGiveUpMs} ms of the leader's death`);
  } finally {
    client.close();
  }
}

/**
 * The probe, in a thread of its own. In the thread of the bench's writers
 * (over a thousand requests and replies a second) the answer the probe
 * waited for queued behind theirs: a traced run saw it 7-12 ms (median) and
 * up to 59 ms after the member had sent it (docs/results.md), the client's
 * lag and not the cluster's. The writers stay where they were: in a thread
 * of their own they would take a core from the members (tried: slower).
 * Times come back on this thread's performance.now() clock (both threads'
 * timeOrigin + now() read one clock).
 */
export class ProbeThread {
  private waiting: { resolve(reply: ProbeReply): void; reject(error: Error): void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: ProbeReply) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.resolve(reply);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the failover probe's thread exited with status ${code}`)));
  }

  /**
   * Resolves once the thread has loaded its modules and probed the cluster
   * a few times: a cold thread took the first trial's probe 15 ms to send its
   * write and 160 ms after the new leader's first commit to see it committed.
   */
  static async start(endpoints: readonly string[], valueSizeBytes: number): Promise<ProbeThread> {
    const thread = new ProbeThread(new Worker(new URL('./failover-probe-worker.js', import.meta.url)));
    const reply = await thread.next();
    if (reply.type !== 'ready') throw new Error(`the failover probe's thread said ${reply.type} first`);
    for (let i = 0; i < warmUpProbes; i += 1) await thread.request({ endpoints, valueSizeBytes, warmUp: true });
    return thread;
  }

  async probe(endpoints: readonly string[], valueSizeBytes: number): Promise<ProbeResult> {
    return this.request({ endpoints, valueSizeBytes });
  }

  private async request(request: ProbeRequest): Promise<ProbeResult> {
    const answered = this.next();
    this.worker.postMessage(request);
    const reply = await answered;
    if (reply.type === 'failed') throw new Error(reply.message);
    if (reply.type !== 'committed') throw new Error(`the failover probe's thread said ${reply.type} to a probe`);
    const local = (at: number): number => at - performance.timeOrigin;
    return {
      committedAt: local(reply.result.committedAt),
      events: reply.result.events.map(({ at, text }) => ({ at: local(at), text })),
    };
  }

  async close(): Promise<void> {
    this.fail(new Error("the failover probe's thread was closed"));
    await this.worker.terminate();
  }

  private next(): Promise<ProbeReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.waiting !== undefined) return Promise.reject(new Error('one probe at a time'));
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.reject(error);
    this.waiting = undefined;
  }
}
