import { compareBytes } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import { latest, onDisk, versionAt, type KeyIndex, type Version } from './key-index.ts';
import { bytesKey, rangeContains } from './key-range.ts';
import { shapeRange } from './range-view.ts';
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  Event,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './types.ts';

/** A change made by a write transaction, in the order made; `kv` undefined is a delete. */
export interface Change {
  readonly key: Uint8Array;
  readonly kv: KeyValue | undefined;
}

/** Values of released versions, read back from the backend (see ValuesOnDisk). */
export type LoadedValues = ReadonlyMap<Version, KeyValue>;

/** The store state a transaction reads: the index as of `revision`, with `compactedRevision` the oldest readable. */
export interface StoreView {
  readonly index: KeyIndex;
  readonly revision: number;
  readonly compactedRevision: number;
  /** Values of released versions the caller has read back from the backend. */
  readonly loaded: LoadedValues;
}

/**
 * Thrown by a historic read that meets released versions whose values are
 * not in `loaded`: the caller reads their records from the backend and asks
 * again. Not a WeftError: the read (or the entry being applied) did not
 * happen, and nothing changed.
 */
export class ValuesOnDisk extends Error {
  constructor(readonly versions: readonly Version[]) {
    super(`${versions.length} values are on disk`);
  }
}

/**
 * One write transaction (a put, a delete range or a txn). Its changes go to
 * an overlay and reach the index only if the whole transaction succeeds, so
 * a typed error part-way leaves the store untouched. Reads inside it see its
 * own earlier writes, at revision + 1 once it has written (as etcd).
 * Every change shares main revision `revision + 1`; `sub` is its position.
 */
export class WriteTxn {
  readonly changes: Change[] = [];
  readonly events: Event[] = [];
  /** The latest change per key (bytesKey), made when a read first needs it: a lone put never does. */
  private overlayByKey: Map<string, Change> | undefined;

  constructor(private readonly view: StoreView) {}

  get newRevision(): number {
    return this.view.revision + 1;
  }

  private get readRevision(): number {
    return this.changes.length > 0 ? this.newRevision : this.view.revision;
  }

  private current(key: Uint8Array): KeyValue | undefined {
    const change = this.changes.length === 0 ? undefined : this.overlay().get(bytesKey(key));
    if (change !== undefined) return change.kv;
    const history = this.view.index.get(key);
    return history === undefined ? undefined : latest(history);
  }

  /** The live kvs in the range, in key order, including this transaction's changes. */
  private currentRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyValue[] {
    const kvs = new Map<string, KeyValue>();
    for (const history of this.view.index.range(key, rangeEnd)) {
      const kv = latest(history);
      if (kv !== undefined) kvs.set(bytesKey(history.key), kv);
    }
    for (const [name, change] of this.overlay()) {
      if (!rangeContains(key, rangeEnd, change.key)) continue;
      if (change.kv === undefined) kvs.delete(name);
      else kvs.set(name, change.kv);
    }
    return [...kvs.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  range(request: RangeRequest): RangeResponse {
    const revision = request.revision ?? 0;
    if (revision === 0 || revision === this.readRevision) {
      return shapeRange(this.currentRange(request.key, request.rangeEnd), request);
    }
    return readRange(this.view, request);
  }

  put(request: PutRequest): PutResponse {
    const previous = this.current(request.key);
    if ((request.ignoreValue === true || request.ignoreLease === true) && previous === undefined) {
      throw new WeftError(
        'KEY_NOT_FOUND',
        'etcdserver: key not found; ignore_value and ignore_lease need an existing key',
      );
    }
    // Every version of a key shares one key array: the history keeps one copy, not one per write.
    const key = previous?.key ?? request.key;
    const kv: KeyValue = {
      key,
      createRevision: previous?.createRevision ?? this.newRevision,
      modRevision: this.newRevision,
      version: (previous?.version ?? 0) + 1,
      value: request.ignoreValue === true && previous !== undefined ? previous.value : request.value,
      lease: request.ignoreLease === true && previous !== undefined ? previous.lease : (request.lease ?? 0),
    };
    this.record({ key, kv });
    this.events.push({ type: 'put', kv, ...(previous !== undefined && { prevKv: previous }) });
    return request.prevKv === true && previous !== undefined ? { prevKv: previous } : {};
  }

  deleteRange(request: DeleteRangeRequest): DeleteRangeResponse {
    const doomed = this.currentRange(request.key, request.rangeEnd);
    for (const previous of doomed) {
      this.record({ key: previous.key, kv: undefined });
      const tombstone = {
        key: previous.key,
        createRevision: 0,
        modRevision: this.newRevision,
        version: 0,
        value: new Uint8Array(0),
        lease: 0,
      };
      this.events.push({ type: 'delete', kv: tombstone, prevKv: previous });
    }
    return { deleted: doomed.length, prevKvs: request.prevKv === true ? doomed : [] };
  }

  txn(request: TxnRequest): TxnResponse {
    const succeeded = request.compare.every((compare) => this.compare(compare));
    const ops = succeeded ? request.success : request.failure;
    return { succeeded, responses: ops.map((op) => this.op(op)) };
  }

  private op(op: RequestOp): ResponseOp {
    switch (op.type) {
      case 'range':
        return { type: 'range', response: this.range(op.request) };
      case 'put':
        return { type: 'put', response: this.put(op.request) };
      case 'deleteRange':
        return { type: 'deleteRange', response: this.deleteRange(op.request) };
      case 'txn':
        return { type: 'txn', response: this.txn(op.request) };
    }
  }

  /** etcd: every key in the range must satisfy the compare; no key means 0 (and a value compare fails). */
  private compare(compare: Compare): boolean {
    const kvs = this.currentRange(compare.key, compare.rangeEnd);
    if (kvs.length === 0) return compare.target === 'value' ? false : holds(compare.result, 0 - compare.value);
    return kvs.every((kv) => {
      if (compare.target === 'value') return holds(compare.result, compareBytes(kv.value, compare.value));
      const actual = { version: kv.version, create: kv.createRevision, mod: kv.modRevision, lease: kv.lease }[
        compare.target
      ];
      return holds(compare.result, actual - compare.value);
    });
  }

  private record(change: Change): void {
    this.changes.push(change);
    this.overlayByKey?.set(bytesKey(change.key), change);
  }

  private overlay(): Map<string, Change> {
    if (this.overlayByKey === undefined) {
      this.overlayByKey = new Map();
      for (const change of this.changes) this.overlayByKey.set(bytesKey(change.key), change);
    }
    return this.overlayByKey;
  }
}

function holds(result: Compare['result'], difference: number): boolean {
  switch (result) {
    case 'equal':
      return difference === 0;
    case 'notEqual':
      return difference !== 0;
    case 'greater':
      return difference > 0;
    case 'less':
      return difference < 0;
  }
}

/** A read outside any transaction, at the request's revision (0 = current); checks compaction and the future. */
export function readRange(view: StoreView, request: RangeRequest): RangeResponse {
  const revision = request.revision ?? 0;
  const at = revision === 0 ? view.revision : revision;
  if (at > view.revision) {
    throw new WeftError(
      'FUTURE_REV',
      `mvcc: required revision is a future revision (${at} > current ${view.revision})`,
      {
        revision: at,
        currentRevision: view.revision,
      },
    );
  }
  if (at < view.compactedRevision) {
    throw new WeftError(
      'COMPACTED',
      `mvcc: required revision has been compacted (${at} < compacted ${view.compactedRevision}); read at a newer revision`,
      { revision: at, compactedRevision: view.compactedRevision },
    );
  }
  const kvs: KeyValue[] = [];
  let missing: Version[] | undefined;
  for (const history of view.index.range(request.key, request.rangeEnd)) {
    const version = versionAt(history, at);
    if (version === undefined || version.kv === undefined) continue;
    const kv = version.kv === onDisk ? view.loaded.get(version) : version.kv;
    if (kv !== undefined) kvs.push(kv);
    else (missing ??= []).push(version);
  }
  if (missing !== undefined) throw new ValuesOnDisk(missing);
  return shapeRange(kvs, request);
}
