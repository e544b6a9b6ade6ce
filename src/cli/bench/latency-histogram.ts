/**
 * A fixed-size log-linear histogram of latencies (HdrHistogram's layout):
 * values in whole microseconds, one bucket per microsecond below 128 µs and
 * 64 linear buckets per power of two above, so a quantile is within 1/64
 * (1.6 %) of the true value and memory stays about 10 KiB however many
 * samples arrive. Values above `limitMicros` count in the top bucket; the
 * true maximum is kept exactly.
 */
const subBucketBits = 7;
const subBuckets = 1 << subBucketBits;

export class LatencyHistogram {
  private readonly counts: Float64Array;
  private total = 0;
  private maxMicros = 0;

  /** @param limitMicros the largest value told apart from larger ones. @default 60 s */
  constructor(readonly limitMicros = 60_000_000) {
    this.counts = new Float64Array(bucketOf(limitMicros) + 1);
  }

  get count(): number {
    return this.total;
  }

  /** Records one latency given in nanoseconds (what process.hrtime.bigint() differences are). */
  recordNanos(nanos: bigint): void {
    this.record(Number(nanos) / 1000);
  }

  record(micros: number): void {
    const value = Math.max(0, micros);
    this.counts[Math.min(bucketOf(value), this.counts.length - 1)]! += 1;
    this.total += 1;
    if (value > this.maxMicros) this.maxMicros = value;
  }

  add(other: LatencyHistogram): void {
    for (let i = 0; i < other.counts.length && i < this.counts.length; i += 1) this.counts[i]! += other.counts[i]!;
    this.total += other.total;
    this.maxMicros = Math.max(this.maxMicros, other.maxMicros);
  }

  /** The value at quantile q (0..1) in milliseconds: the upper edge of the bucket holding it; 0 when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i += 1) {
      seen += this.counts[i]!;
      // The top bucket also holds everything over the limit: its honest edge is the maximum.
      const edge = i === this.counts.length - 1 ? this.maxMicros : upperEdgeOf(i);
      if (seen >= rank) return Math.min(edge, this.maxMicros) / 1000;
    }
    return this.maxMicros / 1000;
  }

  maxMs(): number {
    return this.maxMicros / 1000;
  }

  /** Plain data, to send to another thread (structured clone keeps the typed array). */
  snapshot(): HistogramSnapshot {
    return { limitMicros: this.limitMicros, counts: this.counts, total: this.total, maxMicros: this.maxMicros };
  }

  static fromSnapshot(snapshot: HistogramSnapshot): LatencyHistogram {
    const histogram = new LatencyHistogram(snapshot.limitMicros);
    histogram.counts.set(snapshot.counts);
    histogram.total = snapshot.total;
    histogram.maxMicros = snapshot.maxMicros;
    return histogram;
  }
}

export interface HistogramSnapshot {
  readonly limitMicros: number;
  readonly counts: Float64Array;
  readonly total: number;
  readonly maxMicros: number;
}

/** Bucket of a value (below 2^32 µs, so clz32 gives its power of two). */
function bucketOf(micros: number): number {
  const value = Math.floor(micros);
  if (value < subBuckets) return value;
  const exponent = 31 - Math.clz32(value) - subBucketBits + 1;
  const mantissa = Math.floor(value / 2 ** exponent);
  return exponent * (subBuckets / 2) + mantissa;
}

function upperEdgeOf(bucket: number): number {
  if (bucket < subBuckets) return bucket + 1;
  const exponent = Math.floor((bucket - subBuckets) / (subBuckets / 2)) + 1;
  const mantissa = bucket - exponent * (subBuckets / 2);
  return (mantissa + 1) * 2 ** exponent;
}
