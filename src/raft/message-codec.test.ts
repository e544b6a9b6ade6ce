import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isWeftError } from '../core/errors.ts';
import { decodeMessages, encodeMessages } from './message-codec.ts';
import type { Message } from './messages.ts';
import type { Entry } from './types.ts';

const id = fc.constantFrom('n1', 'n2', 'node-3', '');
const small = fc.nat({ max: 1_000_000 });
const entry: fc.Arbitrary<Entry> = fc.record({
  term: small,
  index: small,
  kind: fc.constantFrom('normal', 'noop', 'config'),
  data: fc.uint8Array({ maxLength: 40 }),
});
const envelope = { from: id, to: id, term: small };
const conf = fc.record({ voters: fc.array(id, { maxLength: 4 }), learners: fc.array(id, { maxLength: 2 }) });

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('app'),
    ...envelope,
    index: small,
    logTerm: small,
    commit: small,
    entries: fc.array(entry, { maxLength: 5 }),
  }),
  fc.record({
    type: fc.constant('appResp'),
    ...envelope,
    index: small,
    reject: fc.boolean(),
    hintIndex: small,
    hintTerm: small,
  }),
  fc.record({
    type: fc.constantFrom('vote', 'preVote'),
    ...envelope,
    lastIndex: small,
    lastTerm: small,
    transfer: fc.boolean(),
    rank: fc.integer({ min: -1, max: 6 }),
  }),
  fc.record({ type: fc.constantFrom('voteResp', 'preVoteResp'), ...envelope, reject: fc.boolean() }),
  fc.record({
    type: fc.constant('heartbeat'),
    ...envelope,
    commit: small,
    context: fc.string(),
    successors: fc.array(id, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constantFrom('heartbeatResp', 'readIndex'), ...envelope, context: fc.string() }),
  fc.record({ type: fc.constant('snap'), ...envelope, snapshot: fc.record({ index: small, term: small, conf }) }),
  fc.record({ type: fc.constant('timeoutNow'), ...envelope }),
  fc.record({ type: fc.constant('readIndexResp'), ...envelope, context: fc.string(), index: small }),
) as fc.Arbitrary<Message>;

describe('Raft message codec', () => {
  it('round-trips every kind of message, in batches', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), (batch) => {
        assert.deepEqual(decodeMessages(encodeMessages(batch)), structuredClone(batch));
      }),
      { numRuns: 2_000 },
    );
  });

  it("copies an append's entry data out of the message, into one buffer for small entries", () => {
    const entries = [1, 2, 3].map((index) => ({
      term: 1,
      index,
      kind: 'normal' as const,
      data: new Uint8Array(100).fill(index),
    }));
    const payload = encodeMessages([
      { type: 'app', from: 'n1', to: 'n2', term: 1, index: 0, logTerm: 0, commit: 0, entries },
    ]);
    const [decoded] = decodeMessages(payload);
    payload.fill(0);
    assert.ok(decoded?.type === 'app');
    assert.deepEqual(decoded.entries, structuredClone(entries));
    assert.equal(new Set(decoded.entries.map((e) => e.data.buffer)).size, 1);
  });

  it('refuses damaged bytes with DECODE_FAILED, never a crash or a huge allocation', () => {
    const good = encodeMessages([
      { type: 'app', from: 'n1', to: 'n2', term: 3, index: 4, logTerm: 3, commit: 4, entries: [] },
    ]);
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 }), (position, value) => {
        const damaged = good.slice();
        damaged[position] = value;
        try {
          decodeMessages(damaged);
        } catch (error) {
          assert.ok(isWeftError(error, 'DECODE_FAILED'), String(error));
        }
      }),
      { numRuns: 2_000 },
    );
    assert.throws(
      () => decodeMessages(good.subarray(0, good.length - 1)),
      (e) => isWeftError(e, 'DECODE_FAILED'),
    );
    assert.throws(
      () => decodeMessages(new Uint8Array([1, 0xff, 0xff, 0xff, 0x7f])),
      (e) => isWeftError(e, 'DECODE_FAILED'),
    );
  });
});
