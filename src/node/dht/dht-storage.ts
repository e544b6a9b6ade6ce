import { WeftError, type ErrorCode } from '../../core/errors.ts';
import { distance, idToHex, inHalfOpen, type Id } from '../../koorde/id-space.ts';
import { compareBig, type NodeRef } from '../../koorde/routing-table.ts';
import type { Logger } from '../logger.ts';
import type { DhtMember, LookupResult } from './dht-member.ts';
import type { DhtRpc } from './dht-rpc.ts';
import { dhtMethods, type Item, type Method, type Wire } from './dht-wire.ts';
import type { ItemStore } from './item-store.ts';

export interface StorageOptions {
  /** r: copies of every key, the owner's included. */
  readonly copies: number;
  /** Items offered to each successor per replication round. */
  readonly syncBatch: number;
  readonly log: Logger;
  readonly nowMs: () => number;
}

export interface WriteResult {
  readonly id: Id;
  readonly owner: NodeRef;
  readonly version: number;
  /** Successors that took a copy. */
  readonly replicas: number;
  readonly lookup: LookupResult;
}

export interface ReadResult {
  readonly item: Item;
  readonly owner: NodeRef;
  readonly lookup: LookupResult;
}

/** Items per hand-off page when a node joins. */
const handoffPageItems = 512;
/** Enough pages for the most items a node may hold (the upper bound of --dht-max-items). */
const maxHandoffPages = Math.ceil(10_000_000 / handoffPageItems);
/**
 * Successor copies a write waits for before it answers: with the owner's,
 * three copies exist when a put returns, so any two nodes may then fail.
 */
const ackedCopies = 2;
/** Owner requests tried per client call: each retry looks the owner up again. */
const ownerAttempts = 3;

/**
 * DHT storage: every key on its owner and the next r−1 successors. Writes
 * go to the owner, which versions them and copies them to its successors
 * before answering. A joining node pulls the keys it takes over; a leaving
 * node pushes its keys to its successor; owners re-replicate to their
 * current successors every few rounds, a bounded batch at a time.
 */
export class DhtStorage {
  /** Owned ids still to offer in this replication cycle. */
  private syncQueue: Id[] = [];
  /** Successors and store changes when the current cycle began, and when the last one ended. */
  private cycleEpoch = '';
  private doneEpoch = '';
  /** The handlers, for requests this node sends to itself as owner. */
  private readonly local = new Map<Method, (request: never) => Promise<unknown>>();

  constructor(
    private readonly member: DhtMember,
    private readonly rpc: DhtRpc,
    private readonly store: ItemStore,
    private readonly options: StorageOptions,
  ) {
    this.serve();
  }

  async put(id: Id, name: string, value: string): Promise<WriteResult> {
    this.store.check(name, value);
    const { owner, reply, lookup } = await this.atOwner(id, dhtMethods.put, { id, name, value, confirmed: false });
    return { id, owner, version: reply.version, replicas: reply.replicas, lookup };
  }

  /** The live item, or NOT_FOUND. */
  async get(id: Id, name: string): Promise<ReadResult> {
    const { owner, reply, lookup } = await this.atOwner(id, dhtMethods.get, { id, confirmed: false });
    const item = reply.item;
    if (item === undefined || item.deleted) {
      throw new WeftError('NOT_FOUND', `no value for key ${JSON.stringify(name)}; put it first`, {
        owner: owner.address,
      });
    }
    return { item, owner, lookup };
  }

  /** Delete (a tombstone on the owner and its replicas), or NOT_FOUND when there was nothing. */
  async remove(id: Id, name: string): Promise<WriteResult> {
    const { owner, reply, lookup } = await this.atOwner(id, dhtMethods.remove, { id, confirmed: false });
    if (!reply.existed) throw new WeftError('NOT_FOUND', `no value for key ${JSON.stringify(name)}; nothing to delete`);
    return { id, owner, version: reply.version, replicas: 0, lookup };
  }

  /**
   * Find the owner and ask it. The first try skips the lookup's
   * confirmation, since the owner checks the key is its own; when the ring
   * moved under us (NOT_OWNER, or the owner does not answer), the owner is
   * looked up again, confirmed this time.
   */
  private async atOwner<M extends typeof dhtMethods.put | typeof dhtMethods.get | typeof dhtMethods.remove>(
    id: Id,
    method: M,
    request: Wire[M][0],
  ): Promise<{ owner: NodeRef; reply: Wire[M][1]; lookup: LookupResult }> {
    let last: unknown;
    for (let attempt = 1; attempt <= ownerAttempts; attempt += 1) {
      const confirmed = attempt > 1;
      const lookup = await this.member.lookup(id, confirmed);
      const owner = lookup.owners[0];
      if (owner === undefined) continue;
      try {
        return { owner, reply: await this.callOrServe(owner, method, { ...request, confirmed }), lookup };
      } catch (error) {
        if (!retriable(error)) throw error;
        last = error;
      }
    }
    throw new WeftError('NO_ROUTE', `the owner of ${idToHex(this.member.space, id)} did not take the request; retry`, {
      cause: String(last),
    });
  }

  private callOrServe<M extends Method>(to: NodeRef, method: M, request: Wire[M][0]): Promise<Wire[M][1]> {
    if (to.id === this.member.self.id) return this.serveLocal(method, request);
    return this.rpc.call(to.address, method, request);
  }

  private serveLocal<M extends Method>(method: M, request: Wire[M][0]): Promise<Wire[M][1]> {
    const serve = this.local.get(method) as ((request: Wire[M][0]) => Promise<Wire[M][1]>) | undefined;
    if (serve === undefined) throw new WeftError('UNKNOWN_METHOD', `no local handler for ${method}`);
    return serve(request);
  }

  private handle<M extends Method>(method: M, serve: (request: Wire[M][0]) => Promise<Wire[M][1]> | Wire[M][1]): void {
    const wrapped = async (request: Wire[M][0]): Promise<Wire[M][1]> => serve(request);
    this.local.set(method, wrapped as (request: never) => Promise<unknown>);
    this.rpc.handle(method, wrapped);
  }

  private serve(): void {
    this.handle(dhtMethods.put, async ({ id, name, value, confirmed }) => {
      this.requireOwner(id, confirmed);
      this.store.check(name, value);
      const version = this.nextVersion(id);
      const item: Item = { id, name, value, version, deleted: false };
      this.store.put(item, this.options.nowMs());
      return { version, replicas: await this.replicate([item]) };
    });
    this.handle(dhtMethods.get, async ({ id, confirmed }) => {
      this.requireOwner(id, confirmed);
      const item = this.store.get(id) ?? (await this.readRepair(id));
      return item !== undefined ? { item } : {};
    });
    this.handle(dhtMethods.remove, async ({ id, confirmed }) => {
      this.requireOwner(id, confirmed);
      const existing = this.store.get(id) ?? (await this.readRepair(id));
      const version = this.nextVersion(id);
      const tombstone: Item = { id, name: existing?.name ?? '', value: '', version, deleted: true };
      this.store.put(tombstone, this.options.nowMs());
      await this.replicate([tombstone]);
      return { version, existed: existing !== undefined && !existing.deleted };
    });
    this.handle(dhtMethods.store, ({ items }) => ({ stored: this.storeAll(items) }));
    this.handle(dhtMethods.retrieve, ({ id }) => {
      const item = this.store.get(id);
      return item !== undefined ? { item } : {};
    });
    this.handle(dhtMethods.handoff, ({ from, to, limit }) => this.page(from, to, limit));
    this.handle(dhtMethods.syncOffer, ({ digests }) => ({
      want: digests.filter((d) => (this.store.get(d.id)?.version ?? -1) < d.version).map((d) => d.id),
    }));
  }

  /** Reads and writes are served by the owner: the key lies in (predecessor, self], or the lookup confirmed it. */
  private requireOwner(id: Id, confirmed: boolean): void {
    const { table } = this.member;
    if (!this.member.joined) {
      throw new WeftError('NOT_IN_RING', 'this node has not joined the DHT ring yet; retry shortly');
    }
    const pred = table.predecessor;
    if (!confirmed && pred !== undefined && !inHalfOpen(this.member.space, id, pred.id, table.self.id)) {
      throw new WeftError('NOT_OWNER', `${idToHex(this.member.space, id)} belongs to another node; look it up again`);
    }
  }

  /** Versions grow per key and follow the clock, so a new owner's writes win over an old owner's. */
  private nextVersion(id: Id): number {
    return Math.max(this.options.nowMs(), (this.store.get(id)?.version ?? 0) + 1);
  }

  private storeAll(items: readonly Item[]): number {
    let stored = 0;
    for (const item of items) {
      if (this.store.put(item, this.options.nowMs())) stored += 1;
    }
    return stored;
  }

  /**
   * Copy to the next r−1 successors. Resolves once `ackedCopies` of them
   * took it (or all answered), with how many did; the others finish in the
   * background, and re-replication repairs any that failed.
   */
  private replicate(items: readonly Item[]): Promise<number> {
    const targets = this.member.table.successors.slice(0, this.options.copies - 1);
    const needed = Math.min(ackedCopies, targets.length);
    if (targets.length === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      let stored = 0;
      let settled = 0;
      const settle = (ok: boolean): void => {
        stored += ok ? 1 : 0;
        settled += 1;
        if (stored === needed || settled === targets.length) resolve(stored);
      };
      for (const node of targets) {
        this.rpc.call(node.address, dhtMethods.store, { items: [...items] }).then(
          () => settle(true),
          () => settle(false),
        );
      }
    });
  }

  /** The owner lacks an item (it took over recently): its successor holds a copy. */
  private async readRepair(id: Id): Promise<Item | undefined> {
    for (const node of this.member.table.successors.slice(0, 2)) {
      const found = await this.rpc.call(node.address, dhtMethods.retrieve, { id }).catch(() => ({ item: undefined }));
      if (found.item !== undefined) {
        this.store.put(found.item, this.options.nowMs());
        return found.item;
      }
    }
    return undefined;
  }

  /** Items in (from, to] in ring order, one page. */
  private page(from: Id, to: Id, limit: number): { items: Item[]; more: boolean } {
    const space = this.member.space;
    const inRange = this.store.range(from, to, Number.MAX_SAFE_INTEGER);
    inRange.sort((a, b) => compareBig(distance(space, from, a.id), distance(space, from, b.id)));
    const items = inRange.slice(0, Math.min(limit, handoffPageItems));
    return { items, more: inRange.length > items.length };
  }

  /** Before our join takes effect, take over (pred, self] from the successor (hand-off on join). */
  async pullOnJoin(pred: NodeRef | undefined, successor: NodeRef): Promise<void> {
    if (pred === undefined) return;
    let from = pred.id;
    const self = this.member.self.id;
    for (let page = 0; page < maxHandoffPages; page += 1) {
      const reply = await this.rpc.call(successor.address, dhtMethods.handoff, {
        from,
        to: self,
        limit: handoffPageItems,
      });
      this.storeAll(reply.items);
      const last = reply.items.at(-1);
      if (!reply.more || last === undefined) return;
      from = last.id;
    }
  }

  /**
   * One replication round: offer the next batch of owned items to each of
   * the next r−1 successors and send what they lack. Over enough rounds
   * every owned item is offered, so copies lost with a dead node return.
   */
  async syncRound(): Promise<void> {
    this.store.sweep(this.options.nowMs());
    const { table } = this.member;
    const pred = table.predecessor;
    if (pred === undefined || table.isAlone()) return;
    if (this.syncQueue.length === 0) {
      const epoch = `${table.successors.map((n) => n.id).join(',')}:${pred.id}:${this.store.changes}`;
      if (epoch === this.doneEpoch) return;
      this.cycleEpoch = epoch;
      this.syncQueue = this.ownedIds(pred.id);
    }
    const batch = this.syncQueue.splice(0, this.options.syncBatch).map((id) => this.store.get(id));
    const items = batch.filter((item): item is Item => item !== undefined);
    const digests = items.map((item) => ({ id: item.id, version: item.version }));
    const targets = table.successors.slice(0, this.options.copies - 1);
    const results = await Promise.allSettled(targets.map((node) => this.offer(node, digests, items)));
    if (this.syncQueue.length === 0 && results.every((r) => r.status === 'fulfilled')) this.doneEpoch = this.cycleEpoch;
  }

  private async offer(node: NodeRef, digests: { id: Id; version: number }[], items: Item[]): Promise<void> {
    if (digests.length === 0) return;
    const { want } = await this.rpc.call(node.address, dhtMethods.syncOffer, { digests });
    if (want.length === 0) return;
    const wanted = new Set(want);
    await this.rpc.call(node.address, dhtMethods.store, { items: items.filter((item) => wanted.has(item.id)) });
  }

  private ownedIds(predId: Id): Id[] {
    const self = this.member.self.id;
    const ids: Id[] = [];
    for (const item of this.store.values()) {
      if (inHalfOpen(this.member.space, item.id, predId, self)) ids.push(item.id);
    }
    return ids;
  }

  /** On a graceful leave, the successor becomes the owner of our keys: make sure it has them. */
  async pushOnLeave(): Promise<void> {
    const { table } = this.member;
    const pred = table.predecessor;
    const successor = table.successor();
    if (table.isAlone()) return;
    const owned = [...this.store.values()].filter(
      (item) => pred === undefined || inHalfOpen(this.member.space, item.id, pred.id, table.self.id),
    );
    for (let start = 0; start < owned.length; start += this.options.syncBatch) {
      const items = owned.slice(start, start + this.options.syncBatch);
      await this.rpc.call(successor.address, dhtMethods.store, { items });
    }
    this.options.log.info({ items: owned.length, successor: successor.address }, 'handed keys to the successor');
  }
}

/** Failures that a fresh lookup may cure: the ring moved, or the owner just died. */
const retriableCodes: readonly ErrorCode[] = ['NOT_OWNER', 'NOT_IN_RING', 'PEER_UNREACHABLE', 'TIMEOUT'];

function retriable(error: unknown): boolean {
  return error instanceof WeftError && retriableCodes.includes(error.code);
}
