import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  SortOrder,
  SortTarget,
} from '../types.ts';
import type {
  WireDeleteRangeRequest,
  WireDeleteRangeResponse,
  WireHeader,
  WireKeyValue,
  WirePutRequest,
  WirePutResponse,
  WireRangeRequest,
  WireRangeResponse,
} from './messages.ts';
import { bytesOf, longToNumber, rangeEndField, rangeEndFromWire, WireEnumMap } from './wire-values.ts';

/**
 * KV messages between etcd's wire form and weft's data model
 * (src/kv/types.ts), in both directions: the server decodes requests and
 * encodes responses, the client the reverse. `fromWire` fills every field,
 * so a decoded request has one canonical shape.
 */
const sortOrders = new WireEnumMap<SortOrder>(
  'sort_order',
  ['NONE', 'ASCEND', 'DESCEND'],
  ['none', 'ascend', 'descend'],
);
const sortTargets = new WireEnumMap<SortTarget>(
  'sort_target',
  ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'],
  ['key', 'version', 'create', 'mod', 'value'],
);

export function keyValueToWire(kv: KeyValue): WireKeyValue {
  return {
    key: kv.key,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

export function keyValueFromWire(kv: WireKeyValue): KeyValue {
  return {
    key: bytesOf(kv.key),
    createRevision: longToNumber(kv.createRevision),
    modRevision: longToNumber(kv.modRevision),
    version: longToNumber(kv.version),
    value: bytesOf(kv.value),
    lease: longToNumber(kv.lease),
  };
}

/** RangeRequest's filters on the kvs returned (0 = no bound); etcd applies them after reading, before the limit. */
export interface RevisionFilters {
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

export const NO_REVISION_FILTERS: RevisionFilters = {
  minModRevision: 0,
  maxModRevision: 0,
  minCreateRevision: 0,
  maxCreateRevision: 0,
};

/** A wire RangeRequest: the read itself, plus what weft's RangeRequest does not carry. */
export interface RangeCall {
  readonly request: RangeRequest;
  readonly serializable: boolean;
  readonly filters: RevisionFilters;
}

export function rangeRequestFromWire(wire: WireRangeRequest): RangeCall {
  return {
    request: {
      key: bytesOf(wire.key),
      rangeEnd: rangeEndFromWire(wire.rangeEnd),
      limit: Math.max(0, longToNumber(wire.limit)),
      revision: Math.max(0, longToNumber(wire.revision)),
      sortOrder: sortOrders.fromWire(wire.sortOrder),
      sortTarget: sortTargets.fromWire(wire.sortTarget),
      keysOnly: wire.keysOnly ?? false,
      countOnly: wire.countOnly ?? false,
    },
    serializable: wire.serializable ?? false,
    filters: {
      minModRevision: longToNumber(wire.minModRevision),
      maxModRevision: longToNumber(wire.maxModRevision),
      minCreateRevision: longToNumber(wire.minCreateRevision),
      maxCreateRevision: longToNumber(wire.maxCreateRevision),
    },
  };
}

export function rangeRequestToWire(
  request: RangeRequest,
  serializable = false,
  filters: RevisionFilters = NO_REVISION_FILTERS,
): WireRangeRequest {
  return {
    key: request.key,
    ...rangeEndField(request.rangeEnd),
    limit: request.limit ?? 0,
    revision: request.revision ?? 0,
    sortOrder: sortOrders.toWire(request.sortOrder ?? 'none'),
    sortTarget: sortTargets.toWire(request.sortTarget ?? 'key'),
    serializable,
    keysOnly: request.keysOnly ?? false,
    countOnly: request.countOnly ?? false,
    ...filters,
  };
}

export function hasRevisionFilters(filters: RevisionFilters): boolean {
  return Object.values(filters).some((bound) => bound !== 0);
}

export function rangeResponseToWire(response: RangeResponse, header?: WireHeader): WireRangeResponse {
  return {
    ...(header && { header }),
    kvs: response.kvs.map(keyValueToWire),
    more: response.more,
    count: response.count,
  };
}

export function rangeResponseFromWire(wire: WireRangeResponse): RangeResponse {
  return { kvs: (wire.kvs ?? []).map(keyValueFromWire), more: wire.more ?? false, count: longToNumber(wire.count) };
}

export function putRequestFromWire(wire: WirePutRequest): PutRequest {
  return {
    key: bytesOf(wire.key),
    value: bytesOf(wire.value),
    lease: longToNumber(wire.lease),
    prevKv: wire.prevKv ?? false,
    ignoreValue: wire.ignoreValue ?? false,
    ignoreLease: wire.ignoreLease ?? false,
  };
}

export function putRequestToWire(request: PutRequest): WirePutRequest {
  return {
    key: request.key,
    value: request.value,
    lease: request.lease ?? 0,
    prevKv: request.prevKv ?? false,
    ignoreValue: request.ignoreValue ?? false,
    ignoreLease: request.ignoreLease ?? false,
  };
}

export function putResponseToWire(response: PutResponse, header?: WireHeader): WirePutResponse {
  return { ...(header && { header }), ...(response.prevKv && { prevKv: keyValueToWire(response.prevKv) }) };
}

export function putResponseFromWire(wire: WirePutResponse): PutResponse {
  return wire.prevKv ? { prevKv: keyValueFromWire(wire.prevKv) } : {};
}

export function deleteRequestFromWire(wire: WireDeleteRangeRequest): DeleteRangeRequest {
  return { key: bytesOf(wire.key), rangeEnd: rangeEndFromWire(wire.rangeEnd), prevKv: wire.prevKv ?? false };
}

export function deleteRequestToWire(request: DeleteRangeRequest): WireDeleteRangeRequest {
  return { key: request.key, ...rangeEndField(request.rangeEnd), prevKv: request.prevKv ?? false };
}

export function deleteResponseToWire(response: DeleteRangeResponse, header?: WireHeader): WireDeleteRangeResponse {
  return { ...(header && { header }), deleted: response.deleted, prevKvs: response.prevKvs.map(keyValueToWire) };
}

export function deleteResponseFromWire(wire: WireDeleteRangeResponse): DeleteRangeResponse {
  return { deleted: longToNumber(wire.deleted), prevKvs: (wire.prevKvs ?? []).map(keyValueFromWire) };
}
