import { WeftError } from '../core/errors.ts';

/**
 * The wait before retry `attempt` (1, 2, ...): exponential from `baseMs`,
 * capped at `maxMs`, with half of it random so that clients that failed
 * together do not retry in lockstep.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Waits `ms`, or rejects with ABORTED as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new WeftError('ABORTED', 'the call was aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new WeftError('ABORTED', 'the call was aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
