import { isWeftError, WeftError } from '../../core/errors.ts';
import type { CallOptions } from '../kv-service.ts';

export const defaultTimeoutMs = 5_000;
/** How often a call that waits for a leader looks again; only while there is none. */
const noLeaderPollMs = 2;

/**
 * Run `attempt` until it succeeds or the caller's deadline passes, retrying
 * what a leader change causes: no leader yet, a request forwarded to a
 * deposed leader, a proposal replaced by a new leader. Any other error
 * ends the call. A write retried this way carries the same request id, so
 * it applies at most once.
 */
export async function untilDeadline<T>(
  options: CallOptions,
  what: string,
  attempt: (remainingMs: number) => Promise<T>,
  stillServing: () => void = () => undefined,
): Promise<T> {
  const deadline = performance.now() + (options.timeoutMs ?? defaultTimeoutMs);
  for (;;) {
    if (options.signal?.aborted === true) throw new WeftError('ABORTED', `${what} was aborted`);
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) {
      throw new WeftError(
        'TIMEOUT',
        `${what} timed out; its outcome is unknown: retry it (writes with the same request id)`,
      );
    }
    try {
      return await attempt(remainingMs);
    } catch (error) {
      if (!isWeftError(error, 'NOT_LEADER') && !isWeftError(error, 'PROPOSAL_DROPPED')) throw error;
      stillServing();
      await new Promise((resolve) => setTimeout(resolve, Math.min(noLeaderPollMs, Math.max(1, remainingMs))));
    }
  }
}
