// Hit ratio of the web cache while one of three nodes is lost. Clients enter
// through two nodes only (a load balancer would drop a dead entry node); the
// third node owns its share of the URLs and is SIGKILLed mid-run. Every URL
// is fetched once first, so the window before the kill is a steady state;
// then Zipf(1.0) over --urls URLs, --concurrency requests in flight; a hit
// is X-Cache HIT or STALE, an error counts as a miss. Prints the ratio of
// the --window-s seconds before the kill, of the window after it, and their
// quotient, and answers and hit ratio second by second.
//   node --import tsx bench/cache-loss.ts --entries url,url --origin url --kill-pid P
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createPrng } from '../src/core/prng.ts';

const { values } = parseArgs({
  options: {
    entries: { type: 'string' },
    origin: { type: 'string' },
    'kill-pid': { type: 'string' },
    urls: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    'warmup-s': { type: 'string', default: '5' },
    'window-s': { type: 'string', default: '5' },
  },
});
const entries = String(values.entries).split(',');
const urlCount = Number(values.urls);
const windowMs = Number(values['window-s']) * 1000;
const warmupMs = Number(values['warmup-s']) * 1000;

// Zipf(1.0): rank r is drawn with probability proportional to 1/r.
const cdf: number[] = [];
let total = 0;
for (let rank = 1; rank <= urlCount; rank += 1) cdf.push((total += 1 / rank));
const prng = createPrng(7);
const drawRank = (): number => {
  const x = prng.next() * total;
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cdf[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

interface Window {
  hits: number;
  answers: number;
  errors: number;
  /** Errors by "<status> <code>". */
  readonly kinds: Map<string, number>;
}
const windows: Record<'steady' | 'loss', Window> = {
  steady: { hits: 0, answers: 0, errors: 0, kinds: new Map() },
  loss: { hits: 0, answers: 0, errors: 0, kinds: new Map() },
};
/** Answers and hits per second of the measured run, to show when the loss hurts and for how long. */
const perSecond: { answers: number; hits: number }[] = [];
let started = performance.now();
const killAtMs = warmupMs + windowMs;
const endAtMs = killAtMs + windowMs;
let killed = false;

function windowAt(ms: number): Window | undefined {
  if (ms >= warmupMs && ms < killAtMs) return windows.steady;
  if (ms >= killAtMs && ms < endAtMs) return windows.loss;
  return undefined;
}

/** Whether the answer was a hit, and what went wrong if it was not a 200: "<status> <code>" or the exception. */
async function ask(url: string): Promise<{ hit: boolean; error: string | undefined }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body = Buffer.from(await response.arrayBuffer()).toString();
    const result = response.headers.get('x-cache');
    if (response.status === 200) return { hit: result === 'HIT' || result === 'STALE', error: undefined };
    const code = /"code":"([A-Z_]+)"/.exec(body)?.[1] ?? '';
    return { hit: false, error: `${response.status} ${code}`.trim() };
  } catch (error) {
    return { hit: false, error: (error as Error).name };
  }
}

async function client(index: number): Promise<void> {
  for (let i = 0; ; i += 1) {
    const now = performance.now() - started;
    if (now >= endAtMs) return;
    if (now >= killAtMs && !killed) {
      killed = true;
      process.kill(Number(values['kill-pid']), 'SIGKILL');
    }
    const target = `${values.origin}/obj-${drawRank()}`;
    const entry = entries[(index + i) % entries.length] ?? '';
    const { hit, error } = await ask(`${entry}/cache?url=${encodeURIComponent(target)}`);
    const doneMs = performance.now() - started;
    const second = Math.floor(doneMs / 1000);
    if (second < Math.ceil(endAtMs / 1000)) {
      const slot = (perSecond[second] ??= { answers: 0, hits: 0 });
      slot.answers += 1;
      if (hit) slot.hits += 1;
    }
    const window = windowAt(doneMs);
    if (window === undefined) continue;
    window.answers += 1;
    if (hit) window.hits += 1;
    if (error !== undefined) {
      window.errors += 1;
      window.kinds.set(error, (window.kinds.get(error) ?? 0) + 1);
    }
  }
}

/** Fetch every URL once, through each entry in turn. */
async function prewarm(): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let rank = next++; rank < urlCount; rank = next++) {
      await ask(`${entries[rank % entries.length]}/cache?url=${encodeURIComponent(`${values.origin}/obj-${rank}`)}`);
    }
  };
  await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
}

await prewarm();
started = performance.now();
await Promise.all(Array.from({ length: Number(values.concurrency) }, (_, i) => client(i)));
const ratio = (w: Window): number => (w.answers === 0 ? 0 : w.hits / w.answers);
const kinds = (w: Window): string =>
  w.errors === 0 ? '' : ` (${[...w.kinds].map(([kind, n]) => `${n}× ${kind}`).join(', ')})`;
const steady = ratio(windows.steady);
const loss = ratio(windows.loss);
console.log(
  `steady: ${windows.steady.answers} answers, hit ratio ${(steady * 100).toFixed(1)}%, ${windows.steady.errors} errors${kinds(windows.steady)}; ` +
    `after the kill: ${windows.loss.answers} answers, hit ratio ${(loss * 100).toFixed(1)}%, ${windows.loss.errors} errors${kinds(windows.loss)}; ` +
    `load average ${loadavg()[0]?.toFixed(1)}`,
);
const timeline = Array.from(perSecond, (slot, second) =>
  slot === undefined ? `${second}s -` : `${second}s ${slot.answers}/${((slot.hits / slot.answers) * 100).toFixed(0)}%`,
);
console.log(`answers/hit ratio per second (kill at ${killAtMs / 1000}s): ${timeline.join(' ')}`);
console.log(
  `steady_hit_ratio=${steady.toFixed(3)} loss_hit_ratio=${loss.toFixed(3)} loss_vs_steady=${(steady === 0 ? 0 : loss / steady).toFixed(3)}`,
);
