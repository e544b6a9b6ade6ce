import { WeftError } from '../core/errors.ts';
import type { Command } from './command.ts';
import { bytesKey, keyBytes, rangeContains } from './key-range.ts';
import type { Compare, PutRequest, RequestOp, TxnRequest } from './types.ts';

/**
 * The KV store's limits (docs/LIMITS.md). Every replica must run with the
 * same values: a command is checked again when applied, and the outcome
 * must be identical everywhere.
 */
export interface KvLimits {
  /** Longest key. @default 4096 bytes */
  readonly maxKeyBytes: number;
  /** Longest value. @default 1 MiB */
  readonly maxValueBytes: number;
  /** Most compares, and most ops in each of a txn's success and failure lists (etcd --max-txn-ops). @default 128 */
  readonly maxOpsPerTxn: number;
  /** Largest encoded command (etcd --max-request-bytes). @default 1.5 MiB */
  readonly maxRequestBytes: number;
  /** How many recent request ids are remembered to apply a retried proposal once. @default 10000 */
  readonly dedupWindowRequests: number;
}

export const DEFAULT_KV_LIMITS: KvLimits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
  maxOpsPerTxn: 128,
  maxRequestBytes: 1536 * 1024,
  dedupWindowRequests: 10_000,
};

export function checkRequestSize(bytes: number, limits: KvLimits): void {
  if (bytes > limits.maxRequestBytes) {
    throw new WeftError(
      'REQUEST_TOO_LARGE',
      `etcdserver: request is too large: ${bytes} bytes, limit ${limits.maxRequestBytes}; split it into smaller requests`,
      { bytes, limitBytes: limits.maxRequestBytes },
    );
  }
}

/** Checks a command's shape and sizes before it is proposed (and again when applied). */
export function validateCommand(command: Command, limits: KvLimits): void {
  switch (command.op) {
    case 'put':
      return validatePut(command.request, limits);
    case 'deleteRange':
      return checkKey(command.request.key, limits);
    case 'txn':
      return validateTxn(command.request, limits);
    case 'compact':
      return;
  }
}

function checkKey(key: Uint8Array, limits: KvLimits): void {
  if (key.length === 0) throw new WeftError('INVALID_REQUEST', 'etcdserver: key is not provided; give a non-empty key');
  if (key.length > limits.maxKeyBytes) {
    throw new WeftError(
      'KEY_TOO_LARGE',
      `key of ${key.length} bytes is over the ${limits.maxKeyBytes}-byte limit; use a shorter key`,
      { bytes: key.length, limitBytes: limits.maxKeyBytes },
    );
  }
}

function validatePut(put: PutRequest, limits: KvLimits): void {
  checkKey(put.key, limits);
  if (put.value.length > limits.maxValueBytes) {
    throw new WeftError(
      'VALUE_TOO_LARGE',
      `value of ${put.value.length} bytes is over the ${limits.maxValueBytes}-byte limit; store large objects elsewhere and keep a reference`,
      { bytes: put.value.length, limitBytes: limits.maxValueBytes },
    );
  }
  if (put.ignoreValue === true && put.value.length > 0) {
    throw new WeftError('VALUE_PROVIDED', 'etcdserver: value is provided; send an empty value with ignore_value');
  }
  if (put.ignoreLease === true && (put.lease ?? 0) !== 0) {
    throw new WeftError('LEASE_PROVIDED', 'etcdserver: lease is provided; send lease 0 with ignore_lease');
  }
}

function validateTxn(txn: TxnRequest, limits: KvLimits): void {
  const longest = Math.max(txn.compare.length, txn.success.length, txn.failure.length);
  if (longest > limits.maxOpsPerTxn) {
    throw new WeftError(
      'TOO_MANY_OPS',
      `etcdserver: too many operations in txn request: ${longest}, limit ${limits.maxOpsPerTxn}; split the txn`,
      { ops: longest, limit: limits.maxOpsPerTxn },
    );
  }
  for (const compare of txn.compare) validateCompare(compare, limits);
  for (const op of [...txn.success, ...txn.failure]) validateOp(op, limits);
  checkDuplicates(txn.success);
  checkDuplicates(txn.failure);
}

function validateCompare(compare: Compare, limits: KvLimits): void {
  checkKey(compare.key, limits);
  if (compare.target === 'value' && compare.value.length > limits.maxValueBytes) {
    throw new WeftError('VALUE_TOO_LARGE', `compare value over the ${limits.maxValueBytes}-byte limit`);
  }
}

function validateOp(op: RequestOp, limits: KvLimits): void {
  if (op.type === 'range') checkKey(op.request.key, limits);
  else if (op.type === 'put') validatePut(op.request, limits);
  else if (op.type === 'deleteRange') checkKey(op.request.key, limits);
  else validateTxn(op.request, limits);
}

interface Writes {
  readonly puts: Set<string>;
  readonly deletes: { readonly key: Uint8Array; readonly rangeEnd: Uint8Array | undefined }[];
}

/**
 * etcd's rule: one op list may not put a key twice, nor put a key it also
 * deletes; a nested txn's branches count as puts of the enclosing list.
 */
function checkDuplicates(ops: readonly RequestOp[]): Writes {
  const writes: Writes = { puts: new Set(), deletes: [] };
  const nested: string[] = [];
  for (const op of ops) {
    if (op.type === 'put') addPut(writes.puts, bytesKey(op.request.key));
    else if (op.type === 'deleteRange') writes.deletes.push({ key: op.request.key, rangeEnd: op.request.rangeEnd });
    else if (op.type === 'txn') {
      for (const branch of [op.request.success, op.request.failure]) {
        const inner = checkDuplicates(branch);
        for (const key of inner.puts) if (writes.puts.has(key)) throw duplicateKey();
        nested.push(...inner.puts);
        writes.deletes.push(...inner.deletes);
      }
    }
  }
  for (const key of nested) writes.puts.add(key);
  for (const key of writes.puts) {
    const bytes = keyBytes(key);
    if (writes.deletes.some((range) => rangeContains(range.key, range.rangeEnd, bytes))) throw duplicateKey();
  }
  return writes;
}

function addPut(puts: Set<string>, key: string): void {
  if (puts.has(key)) throw duplicateKey();
  puts.add(key);
}

function duplicateKey(): WeftError {
  return new WeftError(
    'DUPLICATE_KEY',
    'etcdserver: duplicate key given in txn request; write each key at most once per branch',
  );
}
