import { assert } from '../../core/assert.ts';
import { describeError, isWeftError, WeftError } from '../../core/errors.ts';
import { createPrng } from '../../core/prng.ts';
import { findSuccessorStep, type FindSuccessorRequest } from '../../koorde/find-successor.ts';
import { idToHex, isId, type Id, type IdSpace } from '../../koorde/id-space.ts';
import { LookupRun } from '../../koorde/lookup-run.ts';
import {
  applyFailure,
  applyLeave,
  applyNotify,
  applyStabilize,
  applySuccessorHint,
  applyWindow,
  neighbourState,
  windowKey,
} from '../../koorde/maintenance.ts';
import { RoutingTable, type NodeRef } from '../../koorde/routing-table.ts';
import { MaintenanceSchedule, type MaintenanceTask } from '../../koorde/schedule.ts';
import type { Logger } from '../logger.ts';
import type { DhtRpc } from './dht-rpc.ts';
import { dhtMethods } from './dht-wire.ts';

export interface LookupResult {
  readonly key: Id;
  /** The owner, which confirmed, then the nodes after it (its replicas). */
  readonly owners: readonly NodeRef[];
  /** The node before the owner, when the lookup learned it. */
  readonly predecessor?: NodeRef;
  readonly hops: number;
  readonly confirmations: number;
  /** Requests that failed and were retried elsewhere. */
  readonly retries: number;
}

export interface MemberOptions {
  readonly space: IdSpace;
  readonly self: NodeRef;
  readonly successorListLength: number;
  readonly stabilizeMs: number;
  /** Peer addresses to join through, read again at every attempt (--peers, DNS SRV). */
  readonly bootstrap: () => Promise<string[]>;
  /** May start a ring of its own when no other peer is in one (the first of --peers, or no peers at all). */
  readonly founder: boolean;
  readonly log: Logger;
  /** Told about every lookup this node runs (undefined: it failed), for metrics. */
  readonly observe?: (result: LookupResult | undefined) => void;
}

/** Join retries back off from 200 ms to this. */
const maxJoinBackoffMs = 2_000;

/** What the driver asks the storage side to do at the two moments that move keys. */
export interface MembershipHooks {
  /** Before our join takes effect: pull the keys we are about to own from the successor. */
  beforeNotify(predecessor: NodeRef | undefined, successor: NodeRef): Promise<void>;
  /** Every few rounds: re-replicate owned keys to the current successors. */
  syncRound(): Promise<void>;
}

/**
 * The DHT member of a node: runs the pure Koorde machines (src/koorde) on a
 * timer over the peer transport. It joins (retrying, and founding a ring
 * only when allowed), serves the routing RPCs, stabilizes, fixes its de
 * Bruijn window, and runs iterative lookups.
 */
export class DhtMember {
  readonly table: RoutingTable;
  joined = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<MaintenanceTask, Promise<void>>();
  private joining: Promise<void> = Promise.resolve();
  private readonly schedule: MaintenanceSchedule;
  private hooks: MembershipHooks | undefined;
  /** Ends the join loop's back-off sleep early, on stop. */
  private wake: () => void = () => undefined;

  constructor(
    private readonly rpc: DhtRpc,
    private readonly options: MemberOptions,
  ) {
    this.table = new RoutingTable(options.space, options.self, {
      successorListLength: options.successorListLength,
      candidatesPerHop: 4,
    });
    const seed = Number(options.self.id % 0x7fffffffn);
    this.schedule = new MaintenanceSchedule(
      { stabilize: 1, 'check-predecessor': 1, 'fix-window': 4, sync: 2 },
      createPrng(seed),
    );
    this.serve();
  }

  get self(): NodeRef {
    return this.options.self;
  }

  get space(): IdSpace {
    return this.options.space;
  }

  /** Start joining (in the background) and the maintenance timer. */
  start(hooks: MembershipHooks): void {
    this.hooks = hooks;
    this.joining = this.joinLoop();
    this.timer = setInterval(() => this.tick(), this.options.stabilizeMs);
    this.timer.unref();
  }

  /** Stop maintenance; with `leave`, tell the neighbours first (Chord's voluntary departure). */
  async stop(leave: () => Promise<void>): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.wake();
    await this.joining;
    await Promise.all(this.running.values());
    if (!this.joined || this.table.isAlone()) return;
    // Best effort, bounded by the RPC timeout: a failed hand-over is repaired
    // by re-replication from the copies the successors already hold.
    await leave().catch((error: unknown) => this.options.log.warn({ err: error }, 'could not hand keys over on leave'));
    const message = { node: this.self, state: neighbourState(this.table) };
    const neighbours = [this.table.predecessor, this.table.successor()].filter((n) => n !== undefined);
    await Promise.all(
      neighbours.map((n) => this.rpc.call(n.address, dhtMethods.leave, message).catch(() => undefined)),
    );
    this.options.log.info({ successor: this.describe(this.table.successor()) }, 'left the DHT ring');
  }

  /**
   * Find the owner of `key` (iterative lookup, Koorde §3.3). With `confirm`
   * (the default) the owner has confirmed; without, the caller's next request
   * to the owner must check ownership itself.
   */
  async lookup(key: Id, confirm = true): Promise<LookupResult> {
    this.requireJoined();
    assert(isId(this.space, key), 'lookup keys lie on the circle');
    const run = new LookupRun(key, this.self, { confirm });
    run.accept(findSuccessorStep(this.table, { key }), false);
    try {
      const result = await this.drive(run);
      this.options.observe?.(result);
      return result;
    } catch (error) {
      this.options.observe?.(undefined);
      throw error;
    }
  }

  private async drive(run: LookupRun): Promise<LookupResult> {
    for (;;) {
      // A stopping node ends its lookups (and its join) at the next step, so a graceful stop stays bounded.
      if (this.stopping) throw new WeftError('ABORTED', 'the node is stopping');
      const action = run.next();
      if (action.kind === 'done') {
        const { hops, confirmations, failures } = run;
        const before = action.predecessor !== undefined ? { predecessor: action.predecessor } : {};
        return { key: run.key, owners: action.owners, ...before, hops, confirmations, retries: failures };
      }
      if (action.kind === 'failed') {
        throw new WeftError(
          'NO_ROUTE',
          `no route to the owner of ${idToHex(this.space, run.key)} (${action.reason}); the ring may be re-forming, retry shortly`,
          { reason: action.reason },
        );
      }
      if (action.to.id === this.self.id) {
        // While joining, a ring that names us is remembering our previous
        // run (same address, same id): that member is gone, route around it.
        if (this.joined) run.accept(findSuccessorStep(this.table, action.request));
        else run.fail();
        continue;
      }
      try {
        run.accept(await this.rpc.call(action.to.address, dhtMethods.findSuccessor, action.request));
      } catch (error) {
        run.fail();
        if (!isWeftError(error, 'NOT_IN_RING'))
          this.options.log.debug({ peer: action.to.address, err: error }, 'hop failed');
      }
    }
  }

  private requireJoined(): void {
    if (!this.joined) {
      throw new WeftError(
        'NOT_IN_RING',
        'this node has not joined the DHT ring yet; retry shortly or ask another node',
      );
    }
  }

  describe(node: NodeRef): string {
    return `${idToHex(this.space, node.id)}@${node.address}`;
  }

  private serve(): void {
    const { rpc } = this;
    rpc.handle(dhtMethods.getState, () => ({ self: this.self, joined: this.joined, ...neighbourState(this.table) }));
    rpc.handle(dhtMethods.findSuccessor, (request) => {
      this.requireJoined();
      checkRequest(this.space, request);
      return findSuccessorStep(this.table, request);
    });
    rpc.handle(dhtMethods.notify, ({ node }) => {
      this.requireJoined();
      return { accepted: applyNotify(this.table, node) };
    });
    rpc.handle(dhtMethods.hint, ({ node }) => {
      if (this.joined) applySuccessorHint(this.table, node);
      return {};
    });
    rpc.handle(dhtMethods.leave, ({ node, state }) => {
      applyLeave(this.table, node, state);
      return {};
    });
  }

  // ---- joining ------------------------------------------------------------

  /**
   * Join through any configured peer that is in a ring, retrying with
   * back-off. Only a founder starts a ring, and only when every peer said
   * it is in none or did not answer: a ring that failed us is retried, never
   * split from (the seed formed a second ring here).
   */
  private async joinLoop(): Promise<void> {
    for (let attempt = 1, backoffMs = 200; !this.stopping; attempt += 1) {
      const peers = (await this.options.bootstrap().catch(() => [])).filter((a) => a !== this.self.address);
      const { members, errors, unsure } = await this.probe(peers);
      for (const member of members) {
        try {
          await this.joinThrough(member);
          return;
        } catch (error) {
          errors.push(`${member.address}: ${describeError(error)}`);
        }
      }
      if (this.options.founder && members.length === 0 && !unsure) {
        this.joined = true;
        this.options.log.info(
          { id: idToHex(this.space, this.self.id), peers },
          'no DHT ring to join: started a new one',
        );
        return;
      }
      this.options.log.warn(
        { attempt, peers, errors: errors.slice(0, 4), retryMs: backoffMs },
        'could not join the DHT ring; retrying (a node with peers configured does not start a ring alone)',
      );
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, backoffMs).unref();
      });
      backoffMs = Math.min(maxJoinBackoffMs, backoffMs * 2);
    }
  }

  /**
   * Ask every peer at once whether it is in a ring. `unsure` is set when a
   * peer answered with something other than "not in a ring" or silence: it
   * may be a member, so a founder must not start a second ring.
   */
  private async probe(peers: readonly string[]): Promise<{ members: NodeRef[]; errors: string[]; unsure: boolean }> {
    const answers = await Promise.allSettled(peers.map((a) => this.rpc.call(a, dhtMethods.getState, {})));
    const members: NodeRef[] = [];
    const errors: string[] = [];
    let unsure = false;
    answers.forEach((answer, i) => {
      if (answer.status === 'fulfilled' && answer.value.joined) members.push(answer.value.self);
      else if (answer.status === 'fulfilled') errors.push(`${peers[i]}: not in a ring yet`);
      else {
        unsure ||= !isWeftError(answer.reason, 'PEER_UNREACHABLE');
        errors.push(`${peers[i]}: ${describeError(answer.reason)}`);
      }
    });
    return { members, errors, unsure };
  }

  /** Koorde's join (Chord's, §3.4): successor, neighbours, window, keys, then notify. */
  private async joinThrough(member: NodeRef): Promise<void> {
    const found = await this.drive(LookupRun.through(this.self.id, [member]));
    const successor = found.owners.find((n) => n.address !== this.self.address);
    if (successor === undefined) throw new WeftError('NO_ROUTE', 'the lookup of our own id found only ourselves');
    if (successor.id === this.self.id) {
      throw new WeftError('NOT_IN_RING', `${successor.address} has the same DHT id; give one of them another --dht-id`);
    }
    const state = await this.rpc.call(successor.address, dhtMethods.getState, {});
    this.table.setSuccessors([successor, ...state.successors]);
    // The successor may still point at our previous run; then our
    // predecessor is unknown until it stabilizes and notifies us.
    const pred = state.predecessor?.id === this.self.id ? undefined : state.predecessor;
    this.table.predecessor = pred;
    await this.fixWindow();
    await this.hooks?.beforeNotify(pred, successor);
    const { accepted } = await this.rpc.call(successor.address, dhtMethods.notify, { node: this.self });
    if (!accepted) throw new WeftError('NOT_IN_RING', `${successor.address} did not take us as its predecessor`);
    this.joined = true;
    if (pred !== undefined)
      await this.rpc.call(pred.address, dhtMethods.hint, { node: this.self }).catch(() => undefined);
    this.options.log.info(
      { successor: this.describe(successor), predecessor: pred && this.describe(pred), hops: found.hops },
      'joined the DHT ring',
    );
  }

  // ---- maintenance ----------------------------------------------------------

  private tick(): void {
    if (!this.joined || this.stopping) return;
    for (const task of this.schedule.tick()) {
      if (this.running.has(task)) continue;
      const work = this.runTask(task)
        .catch((error: unknown) => this.options.log.debug({ task, err: error }, 'DHT maintenance task failed'))
        .finally(() => this.running.delete(task));
      this.running.set(task, work);
    }
  }

  private async runTask(task: MaintenanceTask): Promise<void> {
    if (task === 'stabilize') await this.stabilize();
    else if (task === 'check-predecessor') await this.checkPredecessor();
    else if (task === 'fix-window') await this.fixWindow();
    else await this.hooks?.syncRound();
  }

  private async stabilize(): Promise<void> {
    if (this.table.isAlone()) return;
    const successor = this.table.successor();
    let state;
    try {
      state = await this.rpc.call(successor.address, dhtMethods.getState, {});
    } catch {
      applyFailure(this.table, successor.id);
      this.options.log.info({ successor: this.describe(successor) }, 'successor failed; using the next');
      return;
    }
    const target = applyStabilize(this.table, successor, state);
    if (target !== undefined) await this.rpc.call(target.address, dhtMethods.notify, { node: this.self });
  }

  private async checkPredecessor(): Promise<void> {
    const pred = this.table.predecessor;
    if (pred === undefined) return;
    try {
      await this.rpc.transport.ping(pred.address, { timeoutMs: this.options.stabilizeMs * 2 });
    } catch {
      if (this.table.predecessor?.id === pred.id) applyFailure(this.table, pred.id);
    }
  }

  /** Look up k·m: the node before its owner anchors the window, and its predecessor backs it up (§4). */
  private async fixWindow(): Promise<void> {
    if (this.table.isAlone()) return;
    const run = new LookupRun(windowKey(this.table), this.self);
    run.accept(findSuccessorStep(this.table, { key: run.key }), false);
    const found = await this.drive(run);
    const anchor = found.predecessor;
    const before = anchor && (await this.rpc.call(anchor.address, dhtMethods.getState, {}).catch(() => undefined));
    applyWindow(this.table, found.owners, anchor, before?.predecessor !== undefined ? [before.predecessor] : []);
  }
}

/** A request from the wire must stand on this circle before the pure code sees it. */
function checkRequest(space: IdSpace, request: FindSuccessorRequest): void {
  const ids = [request.key, request.confirmAfter, request.walk?.imaginary, request.walk?.shiftedKey];
  const steps = request.walk?.stepsLeft ?? 0;
  if (
    ids.some((id) => id !== undefined && !isId(space, id)) ||
    !Number.isInteger(steps) ||
    steps < 0 ||
    steps > space.bits
  ) {
    throw new WeftError('BAD_REQUEST', 'a find-successor request does not fit this ring (different --dht-id-bits?)');
  }
}
