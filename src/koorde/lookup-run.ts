import { assert } from '../core/assert.ts';
import type { Id } from './id-space.ts';
import type { FindSuccessorReply, FindSuccessorRequest } from './find-successor.ts';
import type { NodeRef } from './routing-table.ts';

/** Bounds of one lookup; see docs/LIMITS.md. */
export interface LookupLimits {
  /** Find-successor requests sent, answered or not, before the lookup gives up. @default 64 */
  readonly maxAttempts: number;
}

export const defaultLookupLimits: LookupLimits = { maxAttempts: 64 };

export type LookupAction =
  | { readonly kind: 'ask'; readonly to: NodeRef; readonly request: FindSuccessorRequest }
  | { readonly kind: 'done'; readonly owners: readonly NodeRef[]; readonly predecessor?: NodeRef }
  | { readonly kind: 'failed'; readonly reason: 'attempt-limit' | 'no-route' };

/** A hop's request and the nodes that may serve it, best first; `tried` of them were asked. */
interface Frame {
  readonly request: FindSuccessorRequest;
  readonly candidates: readonly NodeRef[];
  tried: number;
}

/**
 * The origin's side of an iterative lookup, as data in and actions out: the
 * driver asks `next()`, sends the request, and feeds back `accept(reply)` or
 * `fail()`. A node that does not answer is remembered as bad and its backup
 * (the next candidate) is tried; when a hop's candidates are all bad, the
 * lookup backs up one hop and tries that hop's next candidate, as MIT's
 * p2psim Koorde does.
 */
export class LookupRun {
  /** Find-successor requests that were answered. */
  hops = 0;
  /** Requests that failed (timeouts, unreachable nodes): the retries. */
  failures = 0;
  /** De Bruijn steps taken inside a node's own interval, which cost no message. */
  localSteps = 0;
  private readonly frames: Frame[] = [];
  private readonly bad = new Set<Id>();
  private result: { owners: readonly NodeRef[]; predecessor?: NodeRef } | undefined;
  private asked: NodeRef | undefined;

  constructor(
    readonly key: Id,
    private readonly limits: LookupLimits = defaultLookupLimits,
  ) {}

  /** Start by asking `nodes` (bootstrap peers), which pick the §3.3 start themselves. */
  static through(key: Id, nodes: readonly NodeRef[], limits?: LookupLimits): LookupRun {
    const run = new LookupRun(key, limits);
    run.frames.push({ request: { key }, candidates: nodes, tried: 0 });
    return run;
  }

  /** Feed the reply of the node last asked, or (`remote` false) the origin's own first step. */
  accept(reply: FindSuccessorReply, remote = true): void {
    assert(this.result === undefined, 'no reply is accepted after the lookup finished');
    if (remote) {
      assert(this.asked !== undefined, 'a remote reply answers a request');
      this.hops += 1;
    }
    this.asked = undefined;
    this.localSteps += reply.localSteps;
    if (reply.kind === 'owner') {
      const owners = reply.owners.filter((n) => !this.bad.has(n.id));
      if (owners.length > 0) {
        this.result = { owners, ...(reply.predecessor !== undefined ? { predecessor: reply.predecessor } : {}) };
      }
      return;
    }
    const request = { key: this.key, ...(reply.walk !== undefined ? { walk: reply.walk } : {}) };
    this.frames.push({ request, candidates: reply.candidates, tried: 0 });
  }

  /** The node last asked did not answer: never ask it again in this lookup. */
  fail(): void {
    assert(this.asked !== undefined, 'a failure answers a request');
    this.bad.add(this.asked.id);
    this.asked = undefined;
    this.failures += 1;
  }

  /** Mark a node bad without having asked it (e.g. an owner that did not answer). */
  avoid(id: Id): void {
    this.bad.add(id);
  }

  private withAvoid(request: FindSuccessorRequest): FindSuccessorRequest {
    return this.bad.size === 0 ? request : { ...request, avoid: [...this.bad] };
  }

  next(): LookupAction {
    assert(this.asked === undefined, 'next() waits for the answer to the last ask');
    if (this.result !== undefined) return { kind: 'done', ...this.result };
    if (this.hops + this.failures >= this.limits.maxAttempts) return { kind: 'failed', reason: 'attempt-limit' };
    for (let frame = this.frames.at(-1); frame !== undefined; frame = this.frames.at(-1)) {
      const to = frame.candidates.slice(frame.tried).find((n) => !this.bad.has(n.id));
      if (to !== undefined) {
        frame.tried = frame.candidates.indexOf(to) + 1;
        this.asked = to;
        return { kind: 'ask', to, request: this.withAvoid(frame.request) };
      }
      this.frames.pop();
    }
    return { kind: 'failed', reason: 'no-route' };
  }
}
