import { compareBytes } from '../core/binary.ts';
import type { KeyValue, RangeRequest, RangeResponse, SortTarget } from './types.ts';

/**
 * Shapes a range response from the visible kvs in key order, as etcd does:
 * with a sort other than key-ascending every match is sorted first and the
 * limit applies after; `count` is every match regardless of the limit.
 * Sorting is stable from key order, so ties stay in ascending key order.
 */
export function shapeRange(kvs: readonly KeyValue[], request: RangeRequest): RangeResponse {
  const count = kvs.length;
  if (request.countOnly === true) return { kvs: [], more: false, count };
  const target = request.sortTarget ?? 'key';
  let order = request.sortOrder ?? 'none';
  // etcd: a sort target other than the key with no order means ascending.
  if (order === 'none' && target !== 'key') order = 'ascend';
  let sorted: readonly KeyValue[] = kvs;
  if (order === 'descend' || (order === 'ascend' && target !== 'key')) {
    const sign = order === 'descend' ? -1 : 1;
    sorted = [...kvs].sort((a, b) => sign * compareBy(target, a, b));
  }
  const limit = request.limit ?? 0;
  const limited = limit > 0 && sorted.length > limit ? sorted.slice(0, limit) : sorted;
  const shaped = request.keysOnly === true ? limited.map((kv) => ({ ...kv, value: new Uint8Array(0) })) : limited;
  return { kvs: shaped, more: limited.length < sorted.length, count };
}

function compareBy(target: SortTarget, a: KeyValue, b: KeyValue): number {
  switch (target) {
    case 'key':
      return compareBytes(a.key, b.key);
    case 'version':
      return a.version - b.version;
    case 'create':
      return a.createRevision - b.createRevision;
    case 'mod':
      return a.modRevision - b.modRevision;
    case 'value':
      return compareBytes(a.value, b.value);
  }
}
