import type { FindSuccessorReply, FindSuccessorRequest } from '../../koorde/find-successor.ts';
import type { LookupRun } from '../../koorde/lookup-run.ts';
import type { NodeRef } from '../../koorde/routing-table.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimNetwork } from './sim-network.ts';

export interface LookupOutcome {
  /** The owner that confirmed; absent when the lookup failed. */
  readonly owner?: NodeRef;
  readonly owners: readonly NodeRef[];
  readonly predecessor?: NodeRef;
  readonly hops: number;
  readonly confirmations: number;
  /** Requests that timed out: the retries. */
  readonly failures: number;
  readonly messages: number;
  readonly latencyTicks: number;
  readonly failure?: string;
  /** The oracle's verdict when the owner confirmed, which is when its answer was given. */
  readonly correct: boolean;
}

export interface DriverContext<N> {
  readonly queue: EventQueue;
  readonly net: SimNetwork<N>;
  step(node: N, request: FindSuccessorRequest): FindSuccessorReply;
  /** Whether `owner` truly owns `key` now (the oracle). */
  judge(key: bigint, owner: bigint): boolean;
}

/**
 * Drive one iterative lookup over the simulated network: send what the
 * LookupRun asks for, feed back replies and timeouts, until it is done.
 */
export function driveLookup<N>(ctx: DriverContext<N>, run: LookupRun, done: (outcome: LookupOutcome) => void): void {
  const startedAt = ctx.queue.now;
  let messages = 0;
  // An owner may confirm and crash while its reply is on the wire: the
  // answer is judged when it was given, at the owner.
  const judged = (reply: FindSuccessorReply, by: bigint): boolean =>
    reply.kind === 'owner' && reply.owners[0]?.id === by && ctx.judge(run.key, by);
  let correct = run.origin !== undefined && ctx.judge(run.key, run.origin.id);
  const advance = (): void => {
    const action = run.next();
    if (action.kind === 'ask') {
      messages += 1;
      ctx.net.request(
        action.to.id,
        (node) => {
          const reply = ctx.step(node, action.request);
          return { reply, correct: judged(reply, action.to.id) };
        },
        (answer) => {
          if (answer === undefined) run.fail();
          else {
            messages += 1;
            correct = answer.correct;
            run.accept(answer.reply);
          }
          advance();
        },
      );
      return;
    }
    const counts = {
      hops: run.hops,
      confirmations: run.confirmations,
      failures: run.failures,
      messages,
      latencyTicks: ctx.queue.now - startedAt,
    };
    if (action.kind === 'failed') {
      done({ owners: [], failure: action.reason, ...counts, correct: false });
      return;
    }
    const owner = action.owners[0];
    const predecessor = action.predecessor;
    done({
      owners: action.owners,
      ...(owner !== undefined ? { owner } : {}),
      ...(predecessor !== undefined ? { predecessor } : {}),
      ...counts,
      correct,
    });
  };
  advance();
}
