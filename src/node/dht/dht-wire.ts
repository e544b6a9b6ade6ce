import { WeftError } from '../../core/errors.ts';
import type { FindSuccessorReply, FindSuccessorRequest } from '../../koorde/find-successor.ts';
import type { Id } from '../../koorde/id-space.ts';
import type { NeighbourState } from '../../koorde/maintenance.ts';
import type { NodeRef } from '../../koorde/routing-table.ts';

/**
 * The DHT's peer RPCs over `transport.request` (one method name each) and
 * their encoding: JSON, with identifiers as hex strings. Fields that carry
 * identifiers have fixed names (below), so decoding turns exactly those
 * back into bigints; user keys travel in `name`, never in an id field.
 */
export const dhtMethods = {
  findSuccessor: 'dht.find-successor',
  getState: 'dht.get-state',
  notify: 'dht.notify',
  hint: 'dht.hint',
  leave: 'dht.leave',
  store: 'dht.store',
  retrieve: 'dht.retrieve',
  handoff: 'dht.handoff',
  syncOffer: 'dht.sync-offer',
  put: 'dht.put',
  get: 'dht.get',
  remove: 'dht.remove',
} as const;

/** A stored item. `version` orders writes to one key (higher wins); a delete leaves a tombstone. */
export interface Item {
  readonly id: Id;
  readonly name: string;
  readonly value: string;
  readonly version: number;
  readonly deleted: boolean;
}

export interface GetStateReply extends NeighbourState {
  readonly self: NodeRef;
  /** False while the member is still joining: it must not be used to join through. */
  readonly joined: boolean;
}

/**
 * Reads and writes go to the owner. `confirmed` says the owner confirmed
 * its ownership in the lookup just made; otherwise it checks the key lies in
 * (predecessor, self] and answers NOT_OWNER if not.
 */
export interface OwnerCheck {
  readonly confirmed: boolean;
}

export interface Wire {
  [dhtMethods.findSuccessor]: [FindSuccessorRequest, FindSuccessorReply];
  [dhtMethods.getState]: [Record<string, never>, GetStateReply];
  [dhtMethods.notify]: [{ node: NodeRef }, { accepted: boolean }];
  [dhtMethods.hint]: [{ node: NodeRef }, Record<string, never>];
  [dhtMethods.leave]: [{ node: NodeRef; state: NeighbourState }, Record<string, never>];
  [dhtMethods.store]: [{ items: Item[] }, { stored: number }];
  [dhtMethods.retrieve]: [{ id: Id }, { item?: Item }];
  [dhtMethods.handoff]: [{ from: Id; to: Id; limit: number }, { items: Item[]; more: boolean }];
  [dhtMethods.syncOffer]: [{ digests: { id: Id; version: number }[] }, { want: Id[] }];
  [dhtMethods.put]: [{ id: Id; name: string; value: string } & OwnerCheck, { version: number; replicas: number }];
  [dhtMethods.get]: [{ id: Id } & OwnerCheck, { item?: Item }];
  [dhtMethods.remove]: [{ id: Id } & OwnerCheck, { version: number; existed: boolean }];
}

export type Method = keyof Wire;

const idFields = new Set(['id', 'key', 'imaginary', 'shiftedKey', 'confirmAfter', 'from', 'to']);
const idListFields = new Set(['avoid', 'want']);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v)));
}

export function decode<T>(bytes: Uint8Array): T {
  try {
    return JSON.parse(decoder.decode(bytes), (key, v: unknown) => {
      if (idFields.has(key) && typeof v === 'string') return hexId(v);
      if (idListFields.has(key) && Array.isArray(v)) return v.map((x) => hexId(String(x)));
      return v;
    }) as T;
  } catch (error) {
    if (error instanceof WeftError) throw error;
    throw new WeftError('BAD_REQUEST', `a DHT message is not valid JSON: ${(error as Error).message}`);
  }
}

function hexId(text: string): Id {
  if (!/^[0-9a-f]{1,64}$/.test(text)) throw new WeftError('BAD_REQUEST', `${JSON.stringify(text)} is not a hex id`);
  return BigInt(`0x${text}`);
}
