import { createPrng, type Prng } from '../../core/prng.ts';
import { KvClient } from '../../client/kv-client.ts';
import { LatencyHistogram, type HistogramSnapshot } from './latency-histogram.ts';

/**
 * One thread's share of `weft bench kv`: `clients` request loops over
 * `connections` gRPC channels (channel i starts at endpoint i mod n, so the
 * load spreads over the members). Each loop picks a key uniformly and a
 * read with probability readRatio, and records each request's latency.
 * It speaks only the etcd v3 API (through KvClient).
 */
export interface LoadShare {
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly connections: number;
  readonly durationMs: number;
  readonly valueSizeBytes: number;
  /** Fraction of requests that are reads, 0..1. */
  readonly readRatio: number;
  readonly keys: number;
  readonly consistency: 'linearizable' | 'serializable';
  readonly seed: number;
  /** Bound for one request, retries included. */
  readonly timeoutMs: number;
}

export interface OpSample {
  readonly latency: HistogramSnapshot;
  readonly errors: number;
  readonly lastError: string | undefined;
}

export interface LoadSample {
  readonly elapsedMs: number;
  readonly reads: OpSample;
  readonly writes: OpSample;
}

/** Keys of 8 bytes, as etcd's own benchmark uses by default: "k" and 7 digits. */
export function benchKeys(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => Buffer.from(`k${String(i).padStart(7, '0')}`));
}

/** The channels of a share: channel i lists the endpoints starting at i mod n. */
export function openChannels(share: Pick<LoadShare, 'endpoints' | 'connections' | 'timeoutMs'>): KvClient[] {
  const n = share.endpoints.length;
  return Array.from(
    { length: share.connections },
    (_, i) =>
      new KvClient({
        endpoints: [...share.endpoints.slice(i % n), ...share.endpoints.slice(0, i % n)],
        timeoutMs: share.timeoutMs,
      }),
  );
}

export async function measureLoad(share: LoadShare): Promise<LoadSample> {
  const channels = openChannels(share);
  try {
    const context = {
      keys: benchKeys(share.keys),
      value: Buffer.alloc(share.valueSizeBytes, 'v'),
      reads: { latency: new LatencyHistogram(), errors: 0, lastError: undefined as string | undefined },
      writes: { latency: new LatencyHistogram(), errors: 0, lastError: undefined as string | undefined },
    };
    const prng = createPrng(share.seed);
    const started = process.hrtime.bigint();
    const end = started + BigInt(Math.round(share.durationMs * 1e6));
    await Promise.all(
      Array.from({ length: share.clients }, (_, i) =>
        requestLoop(channels[i % channels.length]!, prng.fork(), end, share, context),
      ),
    );
    const sample = (op: typeof context.reads): OpSample => ({ ...op, latency: op.latency.snapshot() });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { elapsedMs, reads: sample(context.reads), writes: sample(context.writes) };
  } finally {
    for (const channel of channels) channel.close();
  }
}

interface LoopContext {
  readonly keys: readonly Uint8Array[];
  readonly value: Uint8Array;
  readonly reads: { readonly latency: LatencyHistogram; errors: number; lastError: string | undefined };
  readonly writes: { readonly latency: LatencyHistogram; errors: number; lastError: string | undefined };
}

async function requestLoop(client: KvClient, prng: Prng, end: bigint, share: LoadShare, context: LoopContext) {
  const readOptions = { consistency: share.consistency };
  for (let now = process.hrtime.bigint(); now < end; now = process.hrtime.bigint()) {
    const key = context.keys[prng.int(0, context.keys.length - 1)]!;
    const isRead = prng.next() < share.readRatio;
    const op = isRead ? context.reads : context.writes;
    try {
      if (isRead) await client.get(key, readOptions);
      else await client.put(key, context.value);
      op.latency.recordNanos(process.hrtime.bigint() - now);
    } catch (error) {
      op.errors += 1;
      op.lastError = error instanceof Error ? error.message : String(error);
    }
  }
}
