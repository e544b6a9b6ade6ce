import { WeftError } from '../../core/errors.ts';
import { MAX_TXN_DEPTH } from '../command-codec.ts';
import type { Compare, CompareResult, RequestOp, ResponseOp, TxnRequest, TxnResponse } from '../types.ts';
import {
  deleteRequestFromWire,
  deleteRequestToWire,
  deleteResponseFromWire,
  deleteResponseToWire,
  hasRevisionFilters,
  putRequestFromWire,
  putRequestToWire,
  putResponseFromWire,
  putResponseToWire,
  rangeRequestFromWire,
  rangeRequestToWire,
  rangeResponseFromWire,
  rangeResponseToWire,
} from './kv-wire.ts';
import type {
  WireCompare,
  WireHeader,
  WireRequestOp,
  WireResponseOp,
  WireTxnRequest,
  WireTxnResponse,
} from './messages.ts';
import { bytesOf, longToNumber, rangeEndField, rangeEndFromWire, WireEnumMap } from './wire-values.ts';

/** Txn messages between etcd's wire form and weft's data model, both directions (see kv-wire.ts). */
type CompareTarget = Compare['target'];

const compareResults = new WireEnumMap<CompareResult>(
  'compare result',
  ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'],
  ['equal', 'greater', 'less', 'notEqual'],
);
const compareTargets = new WireEnumMap<CompareTarget>(
  'compare target',
  ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'],
  ['version', 'create', 'mod', 'value', 'lease'],
);
/** The oneof member that holds the operand of each target. */
const operandField = { version: 'version', create: 'createRevision', mod: 'modRevision', lease: 'lease' } as const;

/** etcd reads the operand named by `target`, whatever member of the oneof was set; an unset one reads as 0 or empty. */
export function compareFromWire(wire: WireCompare): Compare {
  const common = {
    key: bytesOf(wire.key),
    rangeEnd: rangeEndFromWire(wire.rangeEnd),
    result: compareResults.fromWire(wire.result),
  };
  const target = compareTargets.fromWire(wire.target);
  if (target === 'value') return { ...common, target, value: bytesOf(wire.value) };
  return { ...common, target, value: longToNumber(wire[operandField[target]]) };
}

export function compareToWire(compare: Compare): WireCompare {
  const wire: WireCompare = {
    key: compare.key,
    ...rangeEndField(compare.rangeEnd),
    result: compareResults.toWire(compare.result),
    target: compareTargets.toWire(compare.target),
  };
  if (compare.target === 'value') wire.value = compare.value;
  else wire[operandField[compare.target]] = compare.value;
  return wire;
}

/**
 * A wire TxnRequest. Nesting deeper than MAX_TXN_DEPTH is refused (the
 * command encoding bounds it); an op with no member set is etcd's "key not
 * found"; a range inside a txn cannot carry revision filters, which weft
 * serves on top-level ranges only.
 */
export function txnRequestFromWire(wire: WireTxnRequest, depth = 1): TxnRequest {
  if (depth > MAX_TXN_DEPTH) {
    throw new WeftError('INVALID_REQUEST', `txn nested deeper than ${MAX_TXN_DEPTH} levels; flatten it`);
  }
  return {
    compare: (wire.compare ?? []).map(compareFromWire),
    success: (wire.success ?? []).map((op) => requestOpFromWire(op, depth)),
    failure: (wire.failure ?? []).map((op) => requestOpFromWire(op, depth)),
  };
}

function requestOpFromWire(op: WireRequestOp, depth: number): RequestOp {
  if (op.requestRange) {
    const { request, filters } = rangeRequestFromWire(op.requestRange);
    if (hasRevisionFilters(filters)) {
      throw new WeftError(
        'INVALID_REQUEST',
        'min/max mod/create revision filters are served on a Range, not inside a txn; filter the results instead',
      );
    }
    return { type: 'range', request };
  }
  if (op.requestPut) return { type: 'put', request: putRequestFromWire(op.requestPut) };
  if (op.requestDeleteRange) return { type: 'deleteRange', request: deleteRequestFromWire(op.requestDeleteRange) };
  if (op.requestTxn) return { type: 'txn', request: txnRequestFromWire(op.requestTxn, depth + 1) };
  // etcd answers an empty op with ErrGRPCKeyNotFound.
  throw new WeftError('KEY_NOT_FOUND', 'etcdserver: key not found; a txn op must set one of its request fields');
}

/** etcd serves a txn as a serializable read only when every op of both branches is a serializable range. */
export function isSerializableTxn(wire: WireTxnRequest): boolean {
  const ops = [...(wire.success ?? []), ...(wire.failure ?? [])];
  return ops.every((op) => op.requestRange?.serializable === true);
}

export function txnRequestToWire(request: TxnRequest, serializable = false): WireTxnRequest {
  return {
    compare: request.compare.map(compareToWire),
    success: request.success.map((op) => requestOpToWire(op, serializable)),
    failure: request.failure.map((op) => requestOpToWire(op, serializable)),
  };
}

function requestOpToWire(op: RequestOp, serializable: boolean): WireRequestOp {
  switch (op.type) {
    case 'range':
      return { requestRange: rangeRequestToWire(op.request, serializable) };
    case 'put':
      return { requestPut: putRequestToWire(op.request) };
    case 'deleteRange':
      return { requestDeleteRange: deleteRequestToWire(op.request) };
    case 'txn':
      return { requestTxn: txnRequestToWire(op.request, serializable) };
  }
}

/**
 * Nested responses carry a header with the revision only, as etcd's do:
 * the revision the op saw, which is the one before the txn until the txn
 * has written something, and the txn's own revision from then on (so a
 * range before the txn's first write shows the revision it read at).
 */
export function txnResponseToWire(response: TxnResponse, header: WireHeader): WireTxnResponse {
  const revision = longToNumber(header.revision);
  const state = { wrote: false, before: writes(response) ? revision - 1 : revision, after: revision };
  return { header, succeeded: response.succeeded, responses: nestedResponsesToWire(response, state) };
}

interface TxnRevisions {
  wrote: boolean;
  readonly before: number;
  readonly after: number;
}

function nestedResponsesToWire(response: TxnResponse, state: TxnRevisions): WireResponseOp[] {
  return response.responses.map((op) => {
    if (writes({ succeeded: true, responses: [op] })) state.wrote = true;
    const header: WireHeader = { revision: state.wrote ? state.after : state.before };
    switch (op.type) {
      case 'range':
        return { responseRange: rangeResponseToWire(op.response, header) };
      case 'put':
        return { responsePut: putResponseToWire(op.response, header) };
      case 'deleteRange':
        return { responseDeleteRange: deleteResponseToWire(op.response, header) };
      case 'txn':
        // etcd leaves a nested txn's own header empty.
        return {
          responseTxn: {
            header: {},
            succeeded: op.response.succeeded,
            responses: nestedResponsesToWire(op.response, state),
          },
        };
    }
  });
}

/** Whether a txn changed the store: a put always writes; a delete when it deleted something. */
function writes(response: TxnResponse): boolean {
  return response.responses.some(
    (op) =>
      op.type === 'put' ||
      (op.type === 'deleteRange' && op.response.deleted > 0) ||
      (op.type === 'txn' && writes(op.response)),
  );
}

export function txnResponseFromWire(wire: WireTxnResponse): TxnResponse {
  return { succeeded: wire.succeeded ?? false, responses: (wire.responses ?? []).map(responseOpFromWire) };
}

function responseOpFromWire(op: WireResponseOp): ResponseOp {
  if (op.responseRange) return { type: 'range', response: rangeResponseFromWire(op.responseRange) };
  if (op.responsePut) return { type: 'put', response: putResponseFromWire(op.responsePut) };
  if (op.responseDeleteRange) return { type: 'deleteRange', response: deleteResponseFromWire(op.responseDeleteRange) };
  if (op.responseTxn) return { type: 'txn', response: txnResponseFromWire(op.responseTxn) };
  throw new WeftError('DECODE_FAILED', 'a txn response op has none of its response fields set');
}
