import { ETCD_ERRORS } from '../../core/etcd-errors.ts';
import { WeftError } from '../../core/errors.ts';
import type { KvLimits } from '../../kv/limits.ts';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../../kv/types.ts';

/**
 * The checks etcd's gRPC layer makes before a request reaches the store
 * (etcd v3rpc key.go), in etcd's order, so that a request with several
 * faults fails with the error etcd would give. The store checks sizes and
 * duplicate keys itself; those are not repeated here.
 */
function emptyKey(): WeftError {
  return new WeftError('INVALID_REQUEST', ETCD_ERRORS.emptyKey.message);
}

export function checkRange(request: RangeRequest): void {
  if (request.key.length === 0) throw emptyKey();
}

export function checkDelete(request: DeleteRangeRequest): void {
  if (request.key.length === 0) throw emptyKey();
}

export function checkPut(request: PutRequest): void {
  if (request.key.length === 0) throw emptyKey();
  if (request.ignoreValue === true && request.value.length > 0) {
    throw new WeftError('VALUE_PROVIDED', 'value is provided with ignore_value; send an empty value');
  }
  const lease = request.lease ?? 0;
  if (request.ignoreLease === true && lease !== 0) {
    throw new WeftError('LEASE_PROVIDED', 'lease is provided with ignore_lease; send lease 0');
  }
}

/**
 * weft serves no Lease service yet, so no lease exists: a put naming one
 * fails as etcd's would. etcd checks this when applying, after the checks
 * above; a txn is checked in both branches, not only the one taken.
 */
export function checkNoLease(op: RequestOp): void {
  if (op.type === 'txn') {
    for (const inner of [...op.request.success, ...op.request.failure]) checkNoLease(inner);
  } else if (op.type === 'put' && (op.request.lease ?? 0) !== 0) {
    throw new WeftError(
      'LEASE_NOT_FOUND',
      `lease ${op.request.lease} not found: weft does not serve leases yet; put without one`,
    );
  }
}

/**
 * etcd counts the longest of the compare, success and failure lists against
 * the op limit, and lets a nested txn use only what its parent left over.
 */
export function checkTxn(request: TxnRequest, limits: KvLimits, opsLeft = limits.maxOpsPerTxn): void {
  const ops = Math.max(request.compare.length, request.success.length, request.failure.length);
  if (ops > opsLeft) {
    throw new WeftError('TOO_MANY_OPS', `txn has ${ops} operations in one list; the limit is ${limits.maxOpsPerTxn}`);
  }
  for (const compare of request.compare) if (compare.key.length === 0) throw emptyKey();
  for (const op of [...request.success, ...request.failure]) checkOp(op, limits, opsLeft - ops);
}

function checkOp(op: RequestOp, limits: KvLimits, opsLeft: number): void {
  switch (op.type) {
    case 'range':
      return checkRange(op.request);
    case 'put':
      return checkPut(op.request);
    case 'deleteRange':
      return checkDelete(op.request);
    case 'txn':
      return checkTxn(op.request, limits, opsLeft);
  }
}
