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

export interface LookupOptions extends LookupLimits {
  /**
   * Ask a named owner to confirm (the default). Without, the first owner
   * named is the answer: for callers whose next request is checked by the
   * owner anyway (a DHT read or write), saving one round trip.
   */
  readonly confirm: boolean;
}

export type LookupAction =
  | { readonly kind: 'ask'; readonly to: NodeRef; readonly request: FindSuccessorRequest }
  | { readonly kind: 'done'; readonly owners: readonly NodeRef[]; readonly predecessor?: NodeRef }
  | { readonly kind: 'failed'; readonly reason: 'attempt-limit' | 'no-route' };

/**
 * A hop's request and the nodes that may serve it, best first; `tried` of
 * them were asked. A `confirm` frame asks a named owner to confirm.
 */
interface Frame {
  readonly request: FindSuccessorRequest;
  readonly candidates: readonly NodeRef[];
  readonly confirm: boolean;
  tried: number;
}

/**
 * The origin's side of an iterative lookup, as data in and actions out: the
 * driver asks `next()`, sends the request, and feeds back `accept(reply)` or
 * `fail()`.
 *
 * - A node that does not answer is remembered as bad; its backup (the next
 *   candidate) is tried, and later hops are told to route around it. When a
 *   hop's candidates are all bad, the lookup backs up one hop, as MIT's
 *   p2psim Koorde does.
 * - An owner named by another node is asked to confirm (its own
 *   predecessor pointer, updated at once by a join's notify, is the
 *   authority). So a stale pointer costs a message, not a wrong answer. A
 *   dead owner's named predecessor is asked to route again, then the next
 *   of the named owners.
 * - Every action is bounded: at most `maxAttempts` requests, and the same
 *   node is never asked the same thing twice.
 */
export class LookupRun {
  /** Routing requests that were answered (the path to the owner). */
  hops = 0;
  /** Answered requests that asked a named owner to confirm. */
  confirmations = 0;
  /** Requests that failed (timeouts, unreachable nodes): the retries. */
  failures = 0;
  /** De Bruijn steps taken inside a node's own interval, which cost no message. */
  localSteps = 0;
  private readonly frames: Frame[] = [];
  private readonly bad = new Set<Id>();
  /** Node and request pairs already sent: asking again could only repeat a loop. */
  private readonly sent = new Set<string>();
  private result: { owners: readonly NodeRef[]; predecessor?: NodeRef } | undefined;
  private asked: { node: NodeRef; confirm: boolean } | undefined;

  /** A node restarted the walk; later hops say so (see findSuccessorStep). */
  private restarted = false;
  /** Size of the bad set when the origin last routed with it (see `next`). */
  private originRoutedWithBad = 0;

  /**
   * `origin` is the node running the lookup: its own reply needs no
   * confirmation, and it is asked again (locally) when every path failed.
   */
  private readonly options: LookupOptions;

  constructor(
    readonly key: Id,
    readonly origin?: NodeRef,
    options: Partial<LookupOptions> = {},
  ) {
    this.options = { ...defaultLookupLimits, confirm: true, ...options };
  }

  /** Start by asking `nodes` (bootstrap peers), which pick the §3.3 start themselves. */
  static through(key: Id, nodes: readonly NodeRef[], options: Partial<LookupOptions> = {}): LookupRun {
    const run = new LookupRun(key, undefined, options);
    run.frames.push({ request: { key }, candidates: nodes, confirm: false, tried: 0 });
    return run;
  }

  /** Feed the reply of the node last asked, or (`remote` false) the origin's own first step. */
  accept(reply: FindSuccessorReply, remote = true): void {
    assert(this.result === undefined, 'no reply is accepted after the lookup finished');
    const asked = this.asked;
    assert(remote === (asked !== undefined), 'a remote reply answers a request; a local one does not');
    const replier = asked?.node.id ?? this.origin?.id;
    if (asked?.confirm === true) this.confirmations += 1;
    else if (asked !== undefined && replier !== this.origin?.id) this.hops += 1;
    this.asked = undefined;
    this.localSteps += reply.localSteps;
    if (reply.kind === 'next') {
      this.restarted ||= reply.walk === undefined;
      const request = {
        key: this.key,
        ...(reply.walk !== undefined ? { walk: reply.walk } : {}),
        ...(this.restarted ? { restarted: true } : {}),
      };
      this.frames.push({ request, candidates: reply.candidates, confirm: false, tried: 0 });
      return;
    }
    const owners = reply.owners.filter((n) => !this.bad.has(n.id));
    if (owners[0] !== undefined && (owners[0].id === replier || !this.options.confirm)) {
      this.result = { owners, ...(reply.predecessor !== undefined ? { predecessor: reply.predecessor } : {}) };
      return;
    }
    this.pushConfirmations(owners, reply.predecessor, replier);
  }

  /**
   * Ask the named owner to confirm. Should it be dead, the node named as its
   * predecessor is the authority on who follows it now (a node may have
   * joined in between), so it is asked to route again; only then are the
   * owner's successors asked, in order.
   */
  private pushConfirmations(
    owners: readonly NodeRef[],
    predecessor: NodeRef | undefined,
    replier: Id | undefined,
  ): void {
    const after = predecessor?.id ?? this.frames.at(-1)?.request.confirmAfter;
    const request = { key: this.key, ...(after !== undefined ? { confirmAfter: after } : {}) };
    const [first, ...rest] = owners;
    if (rest.length > 0) this.frames.push({ request, candidates: rest, confirm: true, tried: 0 });
    if (predecessor !== undefined && predecessor.id !== replier) {
      this.frames.push({ request: { key: this.key }, candidates: [predecessor], confirm: false, tried: 0 });
    }
    if (first !== undefined) this.frames.push({ request, candidates: [first], confirm: true, tried: 0 });
  }

  /** The node last asked did not answer: never ask it again in this lookup. */
  fail(): void {
    assert(this.asked !== undefined, 'a failure answers a request');
    this.bad.add(this.asked.node.id);
    this.asked = undefined;
    this.failures += 1;
  }

  next(): LookupAction {
    assert(this.asked === undefined, 'next() waits for the answer to the last ask');
    if (this.result !== undefined) return { kind: 'done', ...this.result };
    if (this.hops + this.confirmations + this.failures >= this.options.maxAttempts) {
      return { kind: 'failed', reason: 'attempt-limit' };
    }
    for (let frame = this.frames.at(-1); frame !== undefined; frame = this.frames.at(-1)) {
      const key = (n: NodeRef): string => sentKey(n, frame.request, this.bad.size);
      const to = frame.candidates.slice(frame.tried).find((n) => !this.bad.has(n.id) && !this.sent.has(key(n)));
      if (to !== undefined) {
        frame.tried = frame.candidates.indexOf(to) + 1;
        this.sent.add(key(to));
        this.asked = { node: to, confirm: frame.confirm };
        return { kind: 'ask', to, request: this.withAvoid(frame.request) };
      }
      this.frames.pop();
    }
    return this.rerouteFromOrigin() ?? { kind: 'failed', reason: 'no-route' };
  }

  /**
   * Every path failed; if dead nodes were found since the origin last
   * routed, the origin routes again around them (its own successor may be
   * among the dead). The driver answers an ask to the origin locally.
   */
  private rerouteFromOrigin(): LookupAction | undefined {
    if (this.origin === undefined || this.bad.size === this.originRoutedWithBad) return undefined;
    this.originRoutedWithBad = this.bad.size;
    this.asked = { node: this.origin, confirm: false };
    return { kind: 'ask', to: this.origin, request: this.withAvoid({ key: this.key }) };
  }

  private withAvoid(request: FindSuccessorRequest): FindSuccessorRequest {
    return this.bad.size === 0 ? request : { ...request, avoid: [...this.bad] };
  }
}

/** The same node asked the same thing, knowing of the same dead nodes, answers the same. */
function sentKey(node: NodeRef, request: FindSuccessorRequest, badCount: number): string {
  const walk = request.walk;
  const where = walk === undefined ? 'start' : `${walk.imaginary}/${walk.stepsLeft}`;
  return `${node.id}:${where}:${request.confirmAfter ?? ''}:${request.restarted === true}:${badCount}`;
}
