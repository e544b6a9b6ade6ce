// The protobuf <-> kv mapping: every field survives kv -> wire -> protobuf
// bytes (our .proto files, loaded as the server and client load them) ->
// wire -> kv, and malformed wire messages fail with the error etcd gives.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { isWeftError } from '../../core/errors.ts';
import type { KeyValue, RangeRequest, TxnRequest, TxnResponse } from '../../kv/types.ts';
import { memberFromWire, memberToWire, statusFromWire, statusToWire } from '../../kv/wire/cluster-wire.ts';
import * as kvWire from '../../kv/wire/kv-wire.ts';
import { ETCD_PROTO_OPTIONS } from '../../kv/wire/messages.ts';
import * as txnWire from '../../kv/wire/txn-wire.ts';
import { headerFromWire, headerToWire } from '../../kv/wire/wire-values.ts';
import { ETCD_PROTO_DIR } from './register.ts';

const definition = protoLoader.loadSync('rpc.proto', { ...ETCD_PROTO_OPTIONS, includeDirs: [ETCD_PROTO_DIR] });
const method = (service: string, name: string) =>
  (definition[`etcdserverpb.${service}`] as unknown as Record<string, protoLoader.MethodDefinition<object, object>>)[
    name
  ]!;

/** Through the bytes etcd's wire format gives, in the direction a client sends. */
function viaRequestBytes<T extends object>(service: string, name: string, wire: T): T {
  const m = method(service, name);
  return m.requestDeserialize(m.requestSerialize(wire)) as T;
}

function viaResponseBytes<T extends object>(service: string, name: string, wire: T): T {
  const m = method(service, name);
  return m.responseDeserialize(m.responseSerialize(wire)) as T;
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));
/** Decoded bytes are Buffers; compare contents, as arrays. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}

const kv: KeyValue = { key: bytes('k'), createRevision: 3, modRevision: 9, version: 4, value: bytes('v'), lease: 0 };
const header = { clusterId: 0xfedcba9876543210n, memberId: 0x8000000000000001n, revision: 12, raftTerm: 5 };

describe('etcd wire mapping', () => {
  it('a RangeRequest keeps every field, serializable and the revision filters', () => {
    const request: RangeRequest = {
      key: bytes('a'),
      rangeEnd: new Uint8Array([0]),
      limit: 7,
      revision: 11,
      sortOrder: 'descend',
      sortTarget: 'mod',
      keysOnly: true,
      countOnly: false,
    };
    const filters = { minModRevision: 2, maxModRevision: 9, minCreateRevision: 1, maxCreateRevision: 8 };
    const wire = viaRequestBytes('KV', 'Range', kvWire.rangeRequestToWire(request, true, filters));
    const decoded = kvWire.rangeRequestFromWire(wire);
    assert.deepEqual(plain(decoded), plain({ request, serializable: true, filters }));
  });

  it('negative limits and revisions mean "none" and "newest", as in etcd', () => {
    const decoded = kvWire.rangeRequestFromWire({ key: bytes('a'), limit: '-3', revision: '-1' });
    assert.equal(decoded.request.limit, 0);
    assert.equal(decoded.request.revision, 0);
  });

  it('Put, DeleteRange and their responses keep every field', () => {
    const put = { key: bytes('k'), value: bytes('v'), lease: 0, prevKv: true, ignoreValue: false, ignoreLease: true };
    assert.deepEqual(
      plain(kvWire.putRequestFromWire(viaRequestBytes('KV', 'Put', kvWire.putRequestToWire(put)))),
      plain(put),
    );
    const del = { key: bytes('a'), rangeEnd: bytes('b'), prevKv: true };
    assert.deepEqual(
      plain(kvWire.deleteRequestFromWire(viaRequestBytes('KV', 'DeleteRange', kvWire.deleteRequestToWire(del)))),
      plain(del),
    );
    const putResponse = viaResponseBytes('KV', 'Put', kvWire.putResponseToWire({ prevKv: kv }, headerToWire(header)));
    assert.deepEqual(plain(kvWire.putResponseFromWire(putResponse)), plain({ prevKv: kv }));
    const deleted = { deleted: 1, prevKvs: [kv] };
    const delResponse = viaResponseBytes('KV', 'DeleteRange', kvWire.deleteResponseToWire(deleted));
    assert.deepEqual(plain(kvWire.deleteResponseFromWire(delResponse)), plain(deleted));
  });

  it('a header keeps 64-bit cluster and member ids exactly', () => {
    const wire = viaResponseBytes(
      'KV',
      'Range',
      kvWire.rangeResponseToWire({ kvs: [kv], more: true, count: 3 }, headerToWire(header)),
    );
    assert.deepEqual(headerFromWire(wire.header), header);
    assert.deepEqual(plain(kvWire.rangeResponseFromWire(wire)), plain({ kvs: [kv], more: true, count: 3 }));
  });

  it('a Txn with every compare target and op kind, nested, survives both directions', () => {
    const request: TxnRequest = {
      compare: [
        { key: bytes('a'), rangeEnd: new Uint8Array(0), result: 'equal', target: 'value', value: bytes('x') },
        { key: bytes('a'), rangeEnd: bytes('b'), result: 'greater', target: 'version', value: 2 },
        { key: bytes('a'), rangeEnd: new Uint8Array(0), result: 'less', target: 'create', value: 5 },
        { key: bytes('a'), rangeEnd: new Uint8Array(0), result: 'notEqual', target: 'mod', value: 6 },
        { key: bytes('a'), rangeEnd: new Uint8Array(0), result: 'equal', target: 'lease', value: 0 },
      ],
      success: [
        {
          type: 'put',
          request: {
            key: bytes('p'),
            value: bytes('1'),
            lease: 0,
            prevKv: false,
            ignoreValue: false,
            ignoreLease: false,
          },
        },
        { type: 'deleteRange', request: { key: bytes('d'), rangeEnd: new Uint8Array(0), prevKv: true } },
        {
          type: 'txn',
          request: {
            compare: [],
            success: [{ type: 'range', request: kvWire.rangeRequestFromWire({ key: bytes('r') }).request }],
            failure: [],
          },
        },
      ],
      failure: [{ type: 'range', request: kvWire.rangeRequestFromWire({ key: bytes('f'), limit: 2 }).request }],
    };
    const wire = viaRequestBytes('KV', 'Txn', txnWire.txnRequestToWire(request));
    assert.deepEqual(plain(txnWire.txnRequestFromWire(wire)), plain(request));

    const response: TxnResponse = {
      succeeded: true,
      responses: [
        { type: 'put', response: { prevKv: kv } },
        { type: 'deleteRange', response: { deleted: 1, prevKvs: [kv] } },
        {
          type: 'txn',
          response: {
            succeeded: false,
            responses: [{ type: 'range', response: { kvs: [kv], more: false, count: 1 } }],
          },
        },
      ],
    };
    const wireResponse = viaResponseBytes('KV', 'Txn', txnWire.txnResponseToWire(response, headerToWire(header)));
    assert.deepEqual(plain(txnWire.txnResponseFromWire(wireResponse)), plain(response));
    assert.equal(wireResponse.responses?.[0]?.responsePut?.header?.revision, '12', 'nested headers carry the revision');
  });

  it('nested headers show the revision each op saw, as etcd: before the first write, the one before the txn', () => {
    const range = { type: 'range' as const, response: { kvs: [], more: false, count: 0 } };
    const put = { type: 'put' as const, response: {} };
    const nothingDeleted = { type: 'deleteRange' as const, response: { deleted: 0, prevKvs: [] } };
    const revisions = (response: TxnResponse) =>
      txnWire
        .txnResponseToWire(response, { revision: 12 })
        .responses!.map(
          (op) => (op.responseRange ?? op.responsePut ?? op.responseDeleteRange ?? op.responseTxn)!.header,
        );
    assert.deepEqual(revisions({ succeeded: true, responses: [range, put, range] }), [
      { revision: 11 },
      { revision: 12 },
      { revision: 12 },
    ]);
    assert.deepEqual(revisions({ succeeded: true, responses: [range, nothingDeleted] }), [
      { revision: 12 },
      { revision: 12 },
    ]);
    const nested = { type: 'txn' as const, response: { succeeded: true, responses: [put] } };
    assert.deepEqual(revisions({ succeeded: true, responses: [range, nested] }), [{ revision: 11 }, {}]);
  });

  it('a compare reads the operand its target names; an unset operand reads as 0', () => {
    const compare = txnWire.compareFromWire({ key: bytes('k'), target: 'MOD', result: 'GREATER' });
    assert.deepEqual(
      plain(compare),
      plain({ key: bytes('k'), rangeEnd: [], result: 'greater', target: 'mod', value: 0 }),
    );
  });

  it('a txn is a serializable read only when every op is a serializable range', () => {
    const range = (serializable: boolean) => ({ requestRange: { key: bytes('k'), serializable } });
    assert.equal(txnWire.isSerializableTxn({ success: [range(true)], failure: [range(true)] }), true);
    assert.equal(txnWire.isSerializableTxn({ success: [range(true)], failure: [range(false)] }), false);
    assert.equal(txnWire.isSerializableTxn({ success: [{ requestPut: { key: bytes('k') } }] }), false);
  });

  it('members and status keep 64-bit ids; an unstarted member has an empty name, as etcd shows it', () => {
    const member = {
      id: 0xffffffffffffffffn,
      name: 'n2',
      peerUrls: ['http://h:1'],
      clientUrls: ['http://h:2'],
      isLearner: true,
    };
    const wire = viaResponseBytes('Cluster', 'MemberList', { members: [memberToWire(member)] });
    assert.deepEqual(memberFromWire(wire.members![0]!), { ...member, started: true });
    assert.equal(memberToWire({ ...member, started: false }).name, '');
    const status = {
      header,
      version: '0.1.0',
      dbSizeBytes: 4096,
      leader: 0x8000000000000001n,
      raftIndex: 40,
      raftTerm: 5,
      raftAppliedIndex: 39,
      isLearner: false,
      errors: ['x'],
    };
    const statusWire = viaResponseBytes('Maintenance', 'Status', statusToWire(status, headerToWire(header)));
    assert.deepEqual(statusFromWire(statusWire), status);
  });
});

describe('what goes on the wire', () => {
  // Decoded without defaults: a field absent here was not sent at all.
  const sparse = protoLoader.loadSync('rpc.proto', {
    ...ETCD_PROTO_OPTIONS,
    defaults: false,
    includeDirs: [ETCD_PROTO_DIR],
  });
  const sent = (name: string, wire: object) => {
    const m = (sparse['etcdserverpb.KV'] as unknown as Record<string, protoLoader.MethodDefinition<object, object>>)[
      name
    ]!;
    return m.requestDeserialize(m.requestSerialize(wire)) as Record<string, unknown>;
  };

  it('an empty range_end is never sent: etcd would read it as "every key from here"', () => {
    assert.equal('rangeEnd' in sent('Range', kvWire.rangeRequestToWire({ key: bytes('k') })), false);
    assert.equal('rangeEnd' in sent('DeleteRange', kvWire.deleteRequestToWire({ key: bytes('k') })), false);
    const compare = txnWire.compareToWire({ key: bytes('k'), result: 'equal', target: 'version', value: 0 });
    const txn = sent('Txn', { compare: [compare] }) as { compare: Record<string, unknown>[] };
    assert.equal('rangeEnd' in txn.compare[0]!, false);
    assert.equal(
      txn.compare[0]!['version'],
      '0',
      'a zero operand is still sent: it is the oneof member that says what to compare',
    );
    assert.deepEqual(
      sent('Range', kvWire.rangeRequestToWire({ key: bytes('k'), rangeEnd: bytes('l') }))['rangeEnd'],
      Buffer.from('l'),
    );
  });

  it('a received range_end that is present but empty means every key from the key on, as etcd reads it', () => {
    const explicit = viaRequestBytes('KV', 'Range', { key: bytes('k'), rangeEnd: new Uint8Array(0) });
    assert.deepEqual([...kvWire.rangeRequestFromWire(explicit).request.rangeEnd!], [0]);
    const absent = viaRequestBytes('KV', 'Range', { key: bytes('k') });
    assert.deepEqual([...kvWire.rangeRequestFromWire(absent).request.rangeEnd!], []);
    const deleted = viaRequestBytes('KV', 'DeleteRange', { key: bytes('k'), rangeEnd: new Uint8Array(0) });
    assert.deepEqual([...kvWire.deleteRequestFromWire(deleted).rangeEnd!], [0]);
  });
});

describe('malformed wire messages', () => {
  const failsWith = (code: string, work: () => unknown, message?: RegExp) =>
    assert.throws(
      work,
      (error: unknown) => isWeftError(error) && error.code === code && (!message || message.test(error.message)),
    );

  it('an unknown enum number is INVALID_REQUEST naming the field', () => {
    failsWith('INVALID_REQUEST', () => kvWire.rangeRequestFromWire({ key: bytes('k'), sortOrder: 7 }), /sort_order 7/);
    failsWith('INVALID_REQUEST', () => txnWire.compareFromWire({ key: bytes('k'), target: 9 }), /compare target 9/);
  });

  it('an empty txn op is etcd\'s "key not found"', () => {
    failsWith('KEY_NOT_FOUND', () => txnWire.txnRequestFromWire({ success: [{}] }));
  });

  it('nesting deeper than the command encoding allows is refused', () => {
    let wire = { success: [{ requestRange: { key: bytes('k') } }] };
    for (let depth = 0; depth < 8; depth += 1) wire = { success: [{ requestTxn: wire } as never] };
    failsWith('INVALID_REQUEST', () => txnWire.txnRequestFromWire(wire), /nested deeper than 8/);
  });

  it('revision filters inside a txn are refused with a clear message', () => {
    const op = { requestRange: { key: bytes('k'), minModRevision: '3' } };
    failsWith('INVALID_REQUEST', () => txnWire.txnRequestFromWire({ success: [op] }), /not inside a txn/);
  });
});
