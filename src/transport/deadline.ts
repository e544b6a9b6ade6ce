import { WeftError } from '../core/errors.ts';
import type { RequestOptions } from './transport.ts';

/**
 * Settle `work` or reject with TIMEOUT / ABORTED, whichever comes first.
 * The timer is always cleared so no call leaves a handle behind.
 */
export function raceWithDeadline<T>(work: Promise<T>, options: RequestOptions, what: string): Promise<T> {
  const { signal, timeoutMs } = options;
  if (signal?.aborted) {
    return Promise.reject(new WeftError('ABORTED', `${what} was aborted`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      cleanup();
      reject(new WeftError('ABORTED', `${what} was aborted`));
    };
    const timer = setTimeout(() => {
      cleanup();
      // What is left of a deadline is fractional; a message says whole milliseconds.
      reject(new WeftError('TIMEOUT', `${what} timed out after ${Math.round(timeoutMs)} ms`, { timeoutMs }));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
