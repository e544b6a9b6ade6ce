import { BinaryReader, BinaryWriter } from '../core/binary.ts';
import type { Command, KvCommand } from './command.ts';
import type {
  Compare,
  CompareResult,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from './types.ts';

/**
 * The KV command encoding carried in Raft entries. Compact and versioned:
 *
 *   u8 format (1) | uvarint requestId | u8 op (1 put, 2 deleteRange, 3 txn, 4 compact) | request
 *
 * Requests: integers are uvarints, byte strings are length-prefixed, and
 * optional parts are announced by a flags byte. A txn nests at most
 * MAX_TXN_DEPTH levels, so decoding is bounded however the bytes look.
 */
export const COMMAND_FORMAT = 1;
export const MAX_TXN_DEPTH = 8;

const ops = ['put', 'deleteRange', 'txn', 'compact'] as const;
const requestOpTypes = ['range', 'put', 'deleteRange', 'txn'] as const;
const sortOrders: readonly SortOrder[] = ['none', 'ascend', 'descend'];
const sortTargets: readonly SortTarget[] = ['key', 'version', 'create', 'mod', 'value'];
const compareTargets = ['version', 'create', 'mod', 'value', 'lease'] as const;
const compareResults: readonly CompareResult[] = ['equal', 'greater', 'less', 'notEqual'];

export function encodeCommand(command: KvCommand): Uint8Array {
  // A put, the common command, fits at once; others grow as needed.
  const put = command.command.op === 'put' ? command.command.request : undefined;
  const sizeHint = 64 + (put === undefined ? 0 : put.key.length + (put.value?.length ?? 0));
  const writer = new BinaryWriter(sizeHint).u8(COMMAND_FORMAT).uvarint(command.requestId);
  writer.u8(ops.indexOf(command.command.op) + 1);
  writeCommand(writer, command.command);
  return writer.finish();
}

export function decodeCommand(bytes: Uint8Array): KvCommand {
  const reader = new BinaryReader(bytes, 'KV command');
  const format = reader.u8();
  if (format !== COMMAND_FORMAT)
    reader.fail(`format ${format} is not ${COMMAND_FORMAT} (written by another weft version)`);
  const requestId = reader.uvarint();
  const command = readCommand(reader);
  reader.end();
  return { requestId, command };
}

function writeCommand(writer: BinaryWriter, command: Command): void {
  switch (command.op) {
    case 'put':
      return writePut(writer, command.request);
    case 'deleteRange':
      return writeDelete(writer, command.request);
    case 'txn':
      return writeTxn(writer, command.request);
    case 'compact':
      writer.uvarint(command.request.revision);
      return;
  }
}

function readCommand(reader: BinaryReader): Command {
  const tag = reader.u8();
  const op = ops[tag - 1] ?? reader.fail(`unknown op ${tag}`);
  switch (op) {
    case 'put':
      return { op, request: readPut(reader) };
    case 'deleteRange':
      return { op, request: readDelete(reader) };
    case 'txn':
      return { op, request: readTxn(reader, 1) };
    case 'compact':
      return { op, request: { revision: reader.uvarint() } };
  }
}

function flags(...bits: (boolean | undefined)[]): number {
  return bits.reduce<number>((acc, bit, i) => acc | (bit === true ? 1 << i : 0), 0);
}

function readFlags(reader: BinaryReader, count: number): boolean[] {
  const byte = reader.u8();
  if (byte >= 1 << count) reader.fail(`flags ${byte} has unknown bits`);
  const bits: boolean[] = [];
  for (let i = 0; i < count; i += 1) bits.push((byte & (1 << i)) !== 0);
  return bits;
}

function writePut(writer: BinaryWriter, put: PutRequest): void {
  writer
    .u8(flags(put.prevKv, put.ignoreValue, put.ignoreLease))
    .bytes(put.key)
    .bytes(put.value);
  writer.uvarint(put.lease ?? 0);
}

function readPut(reader: BinaryReader): PutRequest {
  const [prevKv, ignoreValue, ignoreLease] = readFlags(reader, 3);
  const key = reader.bytes();
  // The value stays a view of the entry's bytes: the store keeps it, and copying every value cost a copy per write.
  const value = reader.bytesView();
  const lease = reader.uvarint();
  return {
    key,
    value,
    ...(lease !== 0 && { lease }),
    ...(prevKv === true && { prevKv }),
    ...(ignoreValue === true && { ignoreValue }),
    ...(ignoreLease === true && { ignoreLease }),
  };
}

function writeDelete(writer: BinaryWriter, request: DeleteRangeRequest): void {
  writer.u8(flags(request.prevKv, request.rangeEnd !== undefined)).bytes(request.key);
  if (request.rangeEnd !== undefined) writer.bytes(request.rangeEnd);
}

function readDelete(reader: BinaryReader): DeleteRangeRequest {
  const [prevKv, hasEnd] = readFlags(reader, 2);
  const key = reader.bytes();
  return { key, ...(hasEnd === true && { rangeEnd: reader.bytes() }), ...(prevKv === true && { prevKv }) };
}

function writeRange(writer: BinaryWriter, range: RangeRequest): void {
  writer.u8(flags(range.rangeEnd !== undefined, range.keysOnly, range.countOnly)).bytes(range.key);
  if (range.rangeEnd !== undefined) writer.bytes(range.rangeEnd);
  writer.uvarint(range.limit ?? 0).uvarint(range.revision ?? 0);
  writer.u8(sortOrders.indexOf(range.sortOrder ?? 'none')).u8(sortTargets.indexOf(range.sortTarget ?? 'key'));
}

function readRange(reader: BinaryReader): RangeRequest {
  const [hasEnd, keysOnly, countOnly] = readFlags(reader, 3);
  const key = reader.bytes();
  const rangeEnd = hasEnd === true ? reader.bytes() : undefined;
  const limit = reader.uvarint();
  const revision = reader.uvarint();
  const orderByte = reader.u8();
  const sortOrder = sortOrders[orderByte] ?? reader.fail(`unknown sort order ${orderByte}`);
  const targetByte = reader.u8();
  const sortTarget = sortTargets[targetByte] ?? reader.fail(`unknown sort target ${targetByte}`);
  return {
    key,
    ...(rangeEnd !== undefined && { rangeEnd }),
    ...(limit !== 0 && { limit }),
    ...(revision !== 0 && { revision }),
    ...(sortOrder !== 'none' && { sortOrder }),
    ...(sortTarget !== 'key' && { sortTarget }),
    ...(keysOnly === true && { keysOnly }),
    ...(countOnly === true && { countOnly }),
  };
}

function writeCompare(writer: BinaryWriter, compare: Compare): void {
  writer.u8(compareTargets.indexOf(compare.target)).u8(compareResults.indexOf(compare.result));
  writer.u8(flags(compare.rangeEnd !== undefined)).bytes(compare.key);
  if (compare.rangeEnd !== undefined) writer.bytes(compare.rangeEnd);
  if (compare.target === 'value') writer.bytes(compare.value);
  else writer.uvarint(compare.value);
}

function readCompare(reader: BinaryReader): Compare {
  const targetByte = reader.u8();
  const target = compareTargets[targetByte] ?? reader.fail(`unknown compare target ${targetByte}`);
  const resultByte = reader.u8();
  const result = compareResults[resultByte] ?? reader.fail(`unknown compare result ${resultByte}`);
  const [hasEnd] = readFlags(reader, 1);
  const key = reader.bytes();
  const range = { key, result, ...(hasEnd === true && { rangeEnd: reader.bytes() }) };
  return target === 'value'
    ? { ...range, target, value: reader.bytes() }
    : { ...range, target, value: reader.uvarint() };
}

function writeTxn(writer: BinaryWriter, txn: TxnRequest): void {
  writer.uvarint(txn.compare.length);
  for (const compare of txn.compare) writeCompare(writer, compare);
  for (const list of [txn.success, txn.failure]) {
    writer.uvarint(list.length);
    for (const op of list) writeRequestOp(writer, op);
  }
}

function readTxn(reader: BinaryReader, depth: number): TxnRequest {
  if (depth > MAX_TXN_DEPTH) reader.fail(`txn nested deeper than ${MAX_TXN_DEPTH} levels`);
  const compare = Array.from({ length: reader.uvarint() }, () => readCompare(reader));
  const success = Array.from({ length: reader.uvarint() }, () => readRequestOp(reader, depth));
  const failure = Array.from({ length: reader.uvarint() }, () => readRequestOp(reader, depth));
  return { compare, success, failure };
}

function writeRequestOp(writer: BinaryWriter, op: RequestOp): void {
  writer.u8(requestOpTypes.indexOf(op.type));
  switch (op.type) {
    case 'range':
      return writeRange(writer, op.request);
    case 'put':
      return writePut(writer, op.request);
    case 'deleteRange':
      return writeDelete(writer, op.request);
    case 'txn':
      return writeTxn(writer, op.request);
  }
}

function readRequestOp(reader: BinaryReader, depth: number): RequestOp {
  const tag = reader.u8();
  const type = requestOpTypes[tag] ?? reader.fail(`unknown request op ${tag}`);
  switch (type) {
    case 'range':
      return { type, request: readRange(reader) };
    case 'put':
      return { type, request: readPut(reader) };
    case 'deleteRange':
      return { type, request: readDelete(reader) };
    case 'txn':
      return { type, request: readTxn(reader, depth + 1) };
  }
}
