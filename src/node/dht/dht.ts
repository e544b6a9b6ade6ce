import { createIdSpace, idToHex, parseIdHex, type Id, type IdSpace } from '../../koorde/id-space.ts';
import type { NodeRef } from '../../koorde/routing-table.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Registry } from 'prom-client';
import { srvPeers } from '../../discovery/dns-srv.ts';
import { otherPeers, type NodeConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { DhtMember, type LookupResult } from './dht-member.ts';
import { createDhtMetrics } from './dht-metrics.ts';
import { DhtRpc } from './dht-rpc.ts';
import { DhtStorage, type ReadResult, type WriteResult } from './dht-storage.ts';
import { ItemStore } from './item-store.ts';
import { idOfBytes } from './key-id.ts';

/** A member as the APIs show it: id in hex and address. */
export interface MemberView {
  readonly id: string;
  readonly address: string;
}

export interface RoutingTableView {
  readonly joined: boolean;
  readonly self: MemberView;
  readonly predecessor?: MemberView;
  readonly successors: readonly MemberView[];
  readonly window: readonly MemberView[];
  readonly items: number;
}

/**
 * The node's DHT role: a Koorde member, its storage, and the calls the
 * APIs (and next the web cache) make. `ownersOf` is the one to build on:
 * it names a key's owner and the successors that hold its copies.
 */
export class Dht {
  readonly space: IdSpace;
  private readonly member: DhtMember;
  private readonly storage: DhtStorage;
  private readonly store: ItemStore;

  constructor(transport: PeerTransport, config: NodeConfig, log: Logger, registry?: Registry) {
    this.space = createIdSpace(config.dhtIdBits, config.dhtDegree);
    const id = parseIdHex(this.space, config.dhtId) ?? idOfBytes(this.space, transport.address);
    const self: NodeRef = { id, address: transport.address };
    const rpc = new DhtRpc(transport, config.dhtRpcTimeoutMs);
    const peers = otherPeers(config).map((p) => p.address);
    const metrics =
      registry &&
      createDhtMetrics(registry, {
        joined: () => this.member.joined,
        items: () => this.store.size,
        successors: () => this.member.table.successors.length,
      });
    this.member = new DhtMember(rpc, {
      space: this.space,
      self,
      successorListLength: config.dhtSuccessors,
      stabilizeMs: config.dhtStabilizeMs,
      bootstrap: async () => [...peers, ...(config.dhtSrv === '' ? [] : await srvPeers(config.dhtSrv))],
      founder: (peers.length === 0 && config.dhtSrv === '') || config.peers[0]?.id === config.id,
      log,
      ...(metrics !== undefined ? { observe: (result) => metrics.lookupDone(result) } : {}),
    });
    this.store = new ItemStore(this.space, { maxItems: config.dhtMaxItems, maxValueBytes: config.dhtMaxValueBytes });
    this.storage = new DhtStorage(this.member, rpc, this.store, {
      copies: config.dhtSuccessors,
      syncBatch: config.dhtSyncBatch,
      log,
      nowMs: () => Date.now(),
    });
  }

  get joined(): boolean {
    return this.member.joined;
  }

  start(): void {
    this.member.start({
      beforeNotify: (pred, successor) => this.storage.pullOnJoin(pred, successor),
      syncRound: () => this.storage.syncRound(),
    });
  }

  /** Hand our keys to the successor and leave the ring. */
  stop(): Promise<void> {
    return this.member.stop(() => this.storage.pushOnLeave());
  }

  /** Where a key lives on the circle (SHA-256, top b bits). */
  idOf(key: string): Id {
    return idOfBytes(this.space, key);
  }

  /** The owner of an id, and the successors after it that hold copies. */
  lookup(id: Id): Promise<LookupResult> {
    return this.member.lookup(id);
  }

  /** The owner of a key and its replica holders, owner first. */
  async ownersOf(key: string): Promise<readonly NodeRef[]> {
    return (await this.member.lookup(this.idOf(key))).owners;
  }

  put(key: string, value: string): Promise<WriteResult> {
    return this.storage.put(this.idOf(key), key, value);
  }

  get(key: string): Promise<ReadResult> {
    return this.storage.get(this.idOf(key), key);
  }

  delete(key: string): Promise<WriteResult> {
    return this.storage.remove(this.idOf(key), key);
  }

  view(node: NodeRef): MemberView {
    return { id: idToHex(this.space, node.id), address: node.address };
  }

  routingTable(): RoutingTableView {
    const { table } = this.member;
    const pred = table.predecessor;
    return {
      joined: this.member.joined,
      self: this.view(table.self),
      ...(pred !== undefined ? { predecessor: this.view(pred) } : {}),
      successors: table.successors.map((n) => this.view(n)),
      window: table.window.map((n) => this.view(n)),
      items: this.store.size,
    };
  }
}
