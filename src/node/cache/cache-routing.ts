import { RouteCache, type Route } from '../../cache/route-cache.ts';
import { isWeftError, WeftError } from '../../core/errors.ts';
import { idToHex, type Id, type IdSpace } from '../../koorde/id-space.ts';
import type { LookupResult } from '../dht/dht-member.ts';
import { SingleFlight } from './single-flight.ts';

/** What the web cache needs of the DHT role (src/node/dht/dht.ts). */
export interface CacheDht {
  readonly space: IdSpace;
  readonly joined: boolean;
  idOf(key: string): Id;
  /** Is `id` in (predecessor, self]? */
  owns(id: Id): boolean;
  lookup(id: Id): Promise<LookupResult>;
  /** Successors' peer addresses, nearest first. */
  successorAddresses(): readonly string[];
}

/** Owners tried per request (the owner failing, then its successor standing in, then a fresh lookup). */
export const ownerAttempts = 4;
/** Arcs the routing cache keeps. */
export const maxRouteArcs = 1_024;

/**
 * How an entry node reaches a key's owner: itself when it owns the key,
 * else the routing cache (one peer round trip), else a DHT lookup (one per
 * stretch of the ring at a time). A failed owner is dropped and its
 * successor, which holds the hot copies, stands in until the ring re-forms;
 * NOT_OWNER sends the entry back to the DHT.
 */
export class OwnerRouting {
  private readonly routes: RouteCache;
  private readonly lookups = new SingleFlight<LookupResult>();

  constructor(
    private readonly dht: CacheDht,
    private readonly selfAddress: string,
    routeTtlMs: number,
    private readonly clock: () => number,
  ) {
    this.routes = new RouteCache(dht.space, { maxArcs: maxRouteArcs, ttlMs: routeTtlMs });
  }

  /**
   * Run `local` when this node is to answer (it owns the key, or stands in),
   * else `remote` against the owner, failing over as described above.
   */
  async withOwner<T>(
    id: Id,
    local: (standIn: boolean) => Promise<T>,
    remote: (address: string, standIn: boolean) => Promise<T>,
  ): Promise<T> {
    if (this.dht.owns(id)) return local(false);
    let lastError: unknown;
    for (let attempt = 0; attempt < ownerAttempts; attempt += 1) {
      const route = this.routes.find(id, this.clock()) ?? (await this.lookUp(id));
      const target = route.owners[0];
      if (target === undefined) break;
      if (target.address === this.selfAddress) return local(route.standIn);
      try {
        return await remote(target.address, route.standIn);
      } catch (error) {
        lastError = error;
        if (isWeftError(error, 'NOT_OWNER')) this.routes.forget(id);
        else if (isWeftError(error, 'PEER_UNREACHABLE') || isWeftError(error, 'TIMEOUT')) {
          this.routes.dropNode(target.address);
        } else throw error;
      }
    }
    throw new WeftError(
      'NO_ROUTE',
      `no node answered for ${idToHex(this.dht.space, id)} after ${ownerAttempts} attempts; the ring may be re-forming, retry shortly`,
      { cause: lastError instanceof Error ? lastError.message : String(lastError) },
    );
  }

  private async lookUp(id: Id): Promise<Route> {
    const flight = this.lookups.run(idToHex(this.dht.space, id), () => this.dht.lookup(id));
    const found = await flight.result;
    if (found.predecessor !== undefined) this.routes.learn(found.predecessor, found.owners, this.clock());
    return { owners: found.owners, standIn: false };
  }
}
