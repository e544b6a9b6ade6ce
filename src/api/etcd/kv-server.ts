import type * as grpc from '@grpc/grpc-js';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../../kv/limits.ts';
import type { RangeResponse } from '../../kv/types.ts';
import {
  deleteRequestFromWire,
  deleteResponseToWire,
  hasRevisionFilters,
  putRequestFromWire,
  putResponseToWire,
  rangeRequestFromWire,
  rangeResponseToWire,
  type RevisionFilters,
} from '../../kv/wire/kv-wire.ts';
import type {
  WireCompactionRequest,
  WireDeleteRangeRequest,
  WireHeader,
  WirePutRequest,
  WireRangeRequest,
  WireTxnRequest,
} from '../../kv/wire/messages.ts';
import { isSerializableTxn, txnRequestFromWire, txnResponseToWire } from '../../kv/wire/txn-wire.ts';
import { headerToWire, longToNumber } from '../../kv/wire/wire-values.ts';
import type { KvService } from '../../node/kv-service.ts';
import { readOptions, unary, writeOptions } from './call-context.ts';
import { checkDelete, checkNoLease, checkPut, checkRange, checkTxn } from './request-checks.ts';

/** etcdserverpb.KV over a KvService: decode, check as etcd does, call, encode. */
export function kvHandlers(kv: KvService, limits: KvLimits = DEFAULT_KV_LIMITS): grpc.UntypedServiceImplementation {
  return {
    Range: unary(async (wire: WireRangeRequest, context) => {
      const { request, serializable, filters } = rangeRequestFromWire(wire);
      checkRange(request);
      if (!hasRevisionFilters(filters)) {
        const answer = await kv.range(request, readOptions(context, serializable));
        return rangeResponseToWire(answer.response, headerToWire(answer.header));
      }
      // Filters apply before the limit, so read every match and cut afterwards.
      const answer = await kv.range({ ...request, limit: 0 }, readOptions(context, serializable));
      const response = filterRange(answer.response, filters, request.limit ?? 0);
      return rangeResponseToWire(response, headerToWire(answer.header));
    }),
    Put: unary(async (wire: WirePutRequest, context) => {
      const request = putRequestFromWire(wire);
      checkPut(request);
      checkNoLease({ type: 'put', request });
      const answer = await kv.put(request, writeOptions(context));
      return putResponseToWire(answer.response, headerToWire(answer.header));
    }),
    DeleteRange: unary(async (wire: WireDeleteRangeRequest, context) => {
      const request = deleteRequestFromWire(wire);
      checkDelete(request);
      const answer = await kv.deleteRange(request, writeOptions(context));
      return deleteResponseToWire(answer.response, headerToWire(answer.header));
    }),
    Txn: unary(async (wire: WireTxnRequest, context) => {
      const request = txnRequestFromWire(wire);
      checkTxn(request, limits);
      checkNoLease({ type: 'txn', request });
      const options = { ...writeOptions(context), ...readOptions(context, isSerializableTxn(wire)) };
      const answer = await kv.txn(request, options);
      return txnResponseToWire(answer.response, headerToWire(answer.header));
    }),
    // `physical` needs no wait: weft removes compacted versions when it applies the compaction.
    Compact: unary(async (wire: WireCompactionRequest, context): Promise<{ header: WireHeader }> => {
      const answer = await kv.compact({ revision: longToNumber(wire.revision) }, writeOptions(context));
      return { header: headerToWire(answer.header) };
    }),
  };
}

/** etcd's min/max mod/create revision filters: `count` stays the unfiltered count, `more` is about the filtered kvs. */
export function filterRange(response: RangeResponse, filters: RevisionFilters, limit: number): RangeResponse {
  const within = (value: number, min: number, max: number): boolean => value >= min && (max === 0 || value <= max);
  const kvs = response.kvs.filter(
    (kv) =>
      within(kv.modRevision, filters.minModRevision, filters.maxModRevision) &&
      within(kv.createRevision, filters.minCreateRevision, filters.maxCreateRevision),
  );
  const more = limit > 0 && kvs.length > limit;
  return { kvs: more ? kvs.slice(0, limit) : kvs, more, count: response.count };
}
