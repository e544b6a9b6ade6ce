// Error mapping: every error a KvService or ClusterService may raise leaves
// as the gRPC status and exact message etcd clients expect (expected values
// are written out here, not read from the table under test), with the weft
// code in metadata; and etcd's messages read back into weft codes.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CODE_OF_ETCD_MESSAGE, GrpcStatus } from '../../core/etcd-errors.ts';
import { NotLeaderError, WeftError, type ErrorCode } from '../../core/errors.ts';
import { toGrpcStatus } from './grpc-status.ts';

const S = grpc.status;
const expected: readonly [ErrorCode, grpc.status, string][] = [
  ['COMPACTED', S.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  ['FUTURE_REV', S.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  ['REQUEST_TOO_LARGE', S.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ['KEY_TOO_LARGE', S.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ['VALUE_TOO_LARGE', S.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ['TOO_MANY_OPS', S.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  ['DUPLICATE_KEY', S.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  ['KEY_NOT_FOUND', S.INVALID_ARGUMENT, 'etcdserver: key not found'],
  ['VALUE_PROVIDED', S.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  ['LEASE_PROVIDED', S.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  ['LEASE_NOT_FOUND', S.NOT_FOUND, 'etcdserver: requested lease not found'],
  ['NOT_LEADER', S.UNAVAILABLE, 'etcdserver: no leader'],
  ['TIMEOUT', S.UNAVAILABLE, 'etcdserver: request timed out'],
  ['ABORTED', S.UNAVAILABLE, 'etcdserver: leader changed'],
  ['PROPOSAL_DROPPED', S.UNAVAILABLE, 'etcdserver: leader changed'],
  ['TRANSFER_IN_PROGRESS', S.UNAVAILABLE, 'etcdserver: leader changed'],
  ['OVERLOADED', S.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],
  ['PEER_UNREACHABLE', S.UNAVAILABLE, 'etcdserver: request timed out, possibly due to connection lost'],
  ['MEMBER_NOT_FOUND', S.NOT_FOUND, 'etcdserver: member not found'],
  ['MEMBER_EXISTS', S.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  [
    'LEARNER_NOT_READY',
    S.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ],
  ['MEMBER_NOT_LEARNER', S.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'],
  ['NODE_REMOVED', S.UNAVAILABLE, 'etcdserver: server stopped'],
];

describe('errors to gRPC statuses', () => {
  for (const [code, status, message] of expected) {
    it(`${code} is ${grpc.status[status]} "${message}"`, () => {
      const mapped = toGrpcStatus(new WeftError(code, 'weft detail that etcd clients must not see'));
      assert.equal(mapped.code, status);
      assert.equal(mapped.details, message);
      assert.deepEqual(mapped.metadata?.get('weft-code'), [code]);
    });
  }

  it('a NotLeaderError is "no leader" whatever its hint', () => {
    assert.equal(toGrpcStatus(new NotLeaderError('n2')).details, 'etcdserver: no leader');
  });

  it('codes etcd has no error for keep their own message', () => {
    const invalid = toGrpcStatus(new WeftError('INVALID_REQUEST', 'etcdserver: key is not provided'));
    assert.deepEqual([invalid.code, invalid.details], [S.INVALID_ARGUMENT, 'etcdserver: key is not provided']);
    const pending = toGrpcStatus(new WeftError('CONF_CHANGE_PENDING', 'another change is in progress'));
    assert.deepEqual([pending.code, pending.details], [S.UNAVAILABLE, 'another change is in progress']);
    const refused = toGrpcStatus(new WeftError('CONF_CHANGE_INVALID', 'n1 is the last voter'));
    assert.equal(refused.code, S.FAILED_PRECONDITION);
    const applied = toGrpcStatus(new WeftError('ALREADY_APPLIED', 'its result is not kept'));
    assert.deepEqual([applied.code, applied.details], [S.FAILED_PRECONDITION, 'its result is not kept']);
  });

  it('anything else is INTERNAL and says so', () => {
    const mapped = toGrpcStatus(new TypeError('boom'));
    assert.equal(mapped.code, S.INTERNAL);
    assert.equal(mapped.details, 'weft: internal error: boom');
  });

  it("our status numbers are gRPC's", () => {
    for (const [name, value] of Object.entries(GrpcStatus)) assert.equal(value, S[name as keyof typeof S], name);
  });

  it('a client reads each message back as the code sent, or as its etcd meaning', () => {
    // Several weft codes share one etcd message; a client of real etcd reads the first meaning.
    const sharedMeaning: Partial<Record<ErrorCode, ErrorCode>> = {
      KEY_TOO_LARGE: 'REQUEST_TOO_LARGE',
      VALUE_TOO_LARGE: 'REQUEST_TOO_LARGE',
      ABORTED: 'PROPOSAL_DROPPED',
      TRANSFER_IN_PROGRESS: 'PROPOSAL_DROPPED',
      PEER_UNREACHABLE: 'TIMEOUT',
      NODE_REMOVED: 'PEER_UNREACHABLE',
    };
    for (const [code, , message] of expected) {
      assert.equal(CODE_OF_ETCD_MESSAGE.get(message), sharedMeaning[code] ?? code, message);
    }
  });
});
