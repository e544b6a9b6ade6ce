import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareBytes } from '../core/binary.ts';
import { WeftError } from '../core/errors.ts';
import type { Entry } from '../raft/types.ts';
import { encodeCommand } from './command-codec.ts';
import type { Command, KvCommand } from './command.ts';
import { rangeContains } from './key-range.ts';
import { DEFAULT_KV_LIMITS, validateCommand, type KvLimits } from './limits.ts';
import type { BackendBatch } from './backend.ts';
import { MemoryBackend } from './memory-backend.ts';
import { DurableKv } from '../storage/durable-kv.ts';
import { MvccStore, type ApplyResult } from './mvcc-store.ts';
import type {
  Compare,
  Event,
  KeyValue,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
} from './types.ts';

// Property test: random sequences of put / delete / txn / range / compact,
// applied through the command codec to the MVCC store and to a naive model
// that keeps a full copy of the key space for every revision. Every result,
// event, error code and read must be identical; and a store restored from
// its backend must answer every read like the original.

const limits: KvLimits = { ...DEFAULT_KV_LIMITS, dedupWindowRequests: 4 };
type State = ReadonlyMap<string, KeyValue>;
const name = (key: Uint8Array): string => String.fromCharCode(...key);

class Model {
  /** The key space at every revision; a new store is at revision 1, empty, as etcd's (index 0 is unused). */
  private readonly states: State[] = [new Map(), new Map()];
  private compacted = 0;
  private readonly dedup: { id: number; revision: number }[] = [];

  get revision(): number {
    return this.states.length - 1;
  }

  range(request: RangeRequest, working?: State): RangeResponse {
    const at = request.revision ?? 0;
    if (at > this.revision) throw new WeftError('FUTURE_REV', 'future');
    if (at !== 0 && at < this.compacted) throw new WeftError('COMPACTED', 'compacted');
    const state = at === 0 ? (working ?? this.states[this.revision]!) : this.states[at]!;
    return shape(inRange(state, request.key, request.rangeEnd), request);
  }

  apply(kv: KvCommand): Omit<ApplyResult, 'index'> {
    const seen = this.dedup.find((d) => d.id === kv.requestId);
    if (kv.requestId !== 0 && seen !== undefined) {
      return {
        requestId: kv.requestId,
        revision: this.revision,
        outcome: { status: 'duplicate', revision: seen.revision },
        events: [],
      };
    }
    let result: Omit<ApplyResult, 'index'>;
    try {
      validateCommand(kv.command, limits);
      const { response, events } = this.execute(kv.command);
      result = { requestId: kv.requestId, revision: this.revision, outcome: { status: 'ok', response }, events };
    } catch (error) {
      if (!(error instanceof WeftError)) throw error;
      result = { requestId: kv.requestId, revision: this.revision, outcome: { status: 'error', error }, events: [] };
    }
    if (kv.requestId !== 0) {
      this.dedup.push({ id: kv.requestId, revision: this.revision });
      if (this.dedup.length > limits.dedupWindowRequests) this.dedup.shift();
    }
    return result;
  }

  private execute(command: Command): { response: never; events: Event[] } {
    if (command.op === 'compact') {
      const rev = command.request.revision;
      if (rev <= this.compacted) throw new WeftError('COMPACTED', 'compacted');
      if (rev > this.revision) throw new WeftError('FUTURE_REV', 'future');
      this.compacted = rev;
      return { response: { type: 'compact' } as never, events: [] };
    }
    const txn = new ModelTxn(this, new Map(this.states[this.revision]!), this.revision + 1);
    const op: RequestOp =
      command.op === 'put'
        ? { type: 'put', request: command.request }
        : command.op === 'deleteRange'
          ? { type: 'deleteRange', request: command.request }
          : { type: 'txn', request: command.request };
    const response = txn.op(op);
    if (txn.events.length > 0) this.states.push(txn.working);
    return { response: response as never, events: txn.events };
  }
}

class ModelTxn {
  readonly events: Event[] = [];
  constructor(
    private readonly model: Model,
    readonly working: Map<string, KeyValue>,
    private readonly rev: number,
  ) {}

  op(op: RequestOp): ResponseOp {
    switch (op.type) {
      case 'range': {
        const wrote = this.events.length > 0;
        const at = op.request.revision ?? 0;
        if (wrote && at === this.rev)
          return { type: 'range', response: this.model.range({ ...op.request, revision: 0 }, this.working) };
        return { type: 'range', response: this.model.range(op.request, wrote || at === 0 ? this.working : undefined) };
      }
      case 'put': {
        const request = op.request;
        const prev = this.working.get(name(request.key));
        if ((request.ignoreValue === true || request.ignoreLease === true) && prev === undefined) {
          throw new WeftError('KEY_NOT_FOUND', 'not found');
        }
        const kv: KeyValue = {
          key: request.key,
          createRevision: prev === undefined ? this.rev : prev.createRevision,
          modRevision: this.rev,
          version: prev === undefined ? 1 : prev.version + 1,
          value: request.ignoreValue === true ? prev!.value : request.value,
          lease: request.ignoreLease === true ? prev!.lease : (request.lease ?? 0),
        };
        this.working.set(name(request.key), kv);
        this.events.push(prev === undefined ? { type: 'put', kv } : { type: 'put', kv, prevKv: prev });
        return { type: 'put', response: request.prevKv === true && prev !== undefined ? { prevKv: prev } : {} };
      }
      case 'deleteRange': {
        const doomed = inRange(this.working, op.request.key, op.request.rangeEnd);
        for (const prev of doomed) {
          this.working.delete(name(prev.key));
          const kv = {
            key: prev.key,
            createRevision: 0,
            modRevision: this.rev,
            version: 0,
            value: new Uint8Array(0),
            lease: 0,
          };
          this.events.push({ type: 'delete', kv, prevKv: prev });
        }
        return {
          type: 'deleteRange',
          response: { deleted: doomed.length, prevKvs: op.request.prevKv === true ? doomed : [] },
        };
      }
      case 'txn': {
        const succeeded = op.request.compare.every((c) => this.compare(c));
        const ops = succeeded ? op.request.success : op.request.failure;
        return { type: 'txn', response: { succeeded, responses: ops.map((o) => this.op(o)) } };
      }
    }
  }

  private compare(c: Compare): boolean {
    const kvs = inRange(this.working, c.key, c.rangeEnd);
    const check = (diff: number): boolean =>
      c.result === 'equal'
        ? diff === 0
        : c.result === 'notEqual'
          ? diff !== 0
          : c.result === 'greater'
            ? diff > 0
            : diff < 0;
    if (kvs.length === 0) return c.target === 'value' ? false : check(0 - c.value);
    return kvs.every((kv) => {
      if (c.target === 'value') return check(compareBytes(kv.value, c.value));
      const field = { version: kv.version, create: kv.createRevision, mod: kv.modRevision, lease: kv.lease }[c.target];
      return check(field - c.value);
    });
  }
}

function inRange(state: State, key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyValue[] {
  return [...state.values()]
    .filter((kv) => rangeContains(key, rangeEnd, kv.key))
    .sort((a, b) => compareBytes(a.key, b.key));
}

/** Naive shaping: sort everything (stable from key order), then cut at the limit. */
function shape(kvs: KeyValue[], request: RangeRequest): RangeResponse {
  if (request.countOnly === true) return { kvs: [], more: false, count: kvs.length };
  const target = request.sortTarget ?? 'key';
  const order = request.sortOrder ?? 'none';
  const field = (kv: KeyValue): number | Uint8Array =>
    ({ key: kv.key, version: kv.version, create: kv.createRevision, mod: kv.modRevision, value: kv.value })[target];
  const cmp = (a: KeyValue, b: KeyValue): number => {
    const [x, y] = [field(a), field(b)];
    return typeof x === 'number' ? x - (y as number) : compareBytes(x, y as Uint8Array);
  };
  const sorted =
    order === 'descend'
      ? [...kvs].sort((a, b) => cmp(b, a))
      : order === 'ascend' || target !== 'key'
        ? [...kvs].sort(cmp)
        : kvs;
  const limit = request.limit ?? 0;
  const cut = limit > 0 ? sorted.slice(0, limit) : sorted;
  return {
    kvs: request.keysOnly === true ? cut.map((kv) => ({ ...kv, value: new Uint8Array(0) })) : cut,
    more: cut.length < sorted.length,
    count: kvs.length,
  };
}

// ---- generators -----------------------------------------------------------

const bytes = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const keyArb = fc.constantFrom('a', 'ab', 'b', 'ba', 'c', 'd\x00', 'zz').map(bytes);
const valueArb = fc.constantFrom('', 'x', 'y', 'xy', 'long value').map(bytes);
const endArb = fc.constantFrom('\x00', 'b', 'c', 'zzz', 'a').map(bytes);
const flag = fc.boolean();
/** The ignore_* flags fail on a missing key and fail the whole txn: keep them rare. */
const rareFlag = fc.constantFrom(false, false, false, false, false, true);

const rangeArb = fc.record(
  {
    key: keyArb,
    rangeEnd: endArb,
    limit: fc.nat(3),
    revision: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 12 }) },
    ),
    sortOrder: fc.constantFrom('none', 'ascend', 'descend' as const),
    sortTarget: fc.constantFrom('key', 'version', 'create', 'mod', 'value' as const),
    keysOnly: flag,
    countOnly: flag,
  },
  { requiredKeys: ['key'] },
) as fc.Arbitrary<RangeRequest>;

const putArb = fc
  .record(
    { key: keyArb, value: valueArb, lease: fc.nat(2), prevKv: flag, ignoreValue: rareFlag, ignoreLease: rareFlag },
    { requiredKeys: ['key', 'value'] },
  )
  .map((p) => ({
    ...p,
    ...(p.ignoreValue === true && { value: new Uint8Array(0) }),
    ...(p.ignoreLease === true && { lease: 0 }),
  }));
const deleteArb = fc.record({ key: keyArb, rangeEnd: endArb, prevKv: flag }, { requiredKeys: ['key'] });
const compareArb: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({
    key: keyArb,
    result: fc.constantFrom('equal', 'greater', 'less', 'notEqual' as const),
    target: fc.constant('value' as const),
    value: valueArb,
  }),
  fc.record(
    {
      key: keyArb,
      rangeEnd: endArb,
      result: fc.constantFrom('equal', 'greater', 'less', 'notEqual' as const),
      target: fc.constantFrom('version', 'create', 'mod', 'lease' as const),
      value: fc.nat(8),
    },
    { requiredKeys: ['key', 'result', 'target', 'value'] },
  ),
);

const { txn: txnArb } = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  op: fc.oneof(
    { maxDepth: 1, depthSize: 'small' },
    fc.record({ type: fc.constant('range' as const), request: rangeArb }),
    fc.record({ type: fc.constant('put' as const), request: putArb }),
    fc.record({ type: fc.constant('deleteRange' as const), request: deleteArb }),
    fc.record({ type: fc.constant('txn' as const), request: tie('txn') as fc.Arbitrary<TxnRequest> }),
  ) as fc.Arbitrary<RequestOp>,
  txn: fc.record({
    compare: fc.array(compareArb, { maxLength: 2 }),
    success: fc.array(tie('op') as fc.Arbitrary<RequestOp>, { maxLength: 2 }),
    failure: fc.array(tie('op') as fc.Arbitrary<RequestOp>, { maxLength: 2 }),
  }),
}));

type Step = { kind: 'read'; request: RangeRequest } | { kind: 'write'; command: KvCommand } | { kind: 'noop' };
const requestIdArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 6 }) },
);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: putArb.map((request) => ({ op: 'put' as const, request })) },
  { weight: 2, arbitrary: deleteArb.map((request) => ({ op: 'deleteRange' as const, request })) },
  { weight: 3, arbitrary: txnArb.map((request) => ({ op: 'txn' as const, request })) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 6 }).map((revision) => ({ op: 'compact' as const, request: { revision } })),
  },
);
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ requestId: requestIdArb, command: commandArb })
      .map((command) => ({ kind: 'write' as const, command })),
  },
  { weight: 3, arbitrary: rangeArb.map((request) => ({ kind: 'read' as const, request })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'noop' as const }) },
);

// ---- comparison -----------------------------------------------------------

/** Errors compare by code; everything else structurally. */
function outcomeOf(run: () => unknown): unknown {
  try {
    return { value: run() };
  } catch (error) {
    if (error instanceof WeftError) return { code: error.code };
    throw error;
  }
}

function normalise(result: ApplyResult): unknown {
  const { outcome } = result;
  return { ...result, outcome: outcome.status === 'error' ? { status: 'error', code: outcome.error.code } : outcome };
}

/** How often each kind of outcome was met, so the test can show it exercised them all. */
const seen = new Map<string, number>();
function count(result: ApplyResult): void {
  const { outcome } = result;
  let kind: string = outcome.status;
  if (outcome.status === 'error') kind = `error ${outcome.error.code}`;
  if (outcome.status === 'ok') {
    const response = outcome.response;
    kind = response.type === 'txn' ? `txn succeeded=${response.response.succeeded}` : response.type;
    if (response.type === 'deleteRange' && response.response.deleted > 1) kind = 'deleteRange (several keys)';
  }
  seen.set(kind, (seen.get(kind) ?? 0) + 1);
}

/** What the model is compared with: the store alone, or the store on its backend (DurableKv), which lets values go. */
interface Subject {
  range(request: RangeRequest): Promise<RangeResponse>;
  apply(entry: Entry): Promise<readonly ApplyResult[]>;
  /** The store rebuilt from its backend. */
  restore(): Promise<Restored>;
  readonly revision: number;
  close(): Promise<void>;
}

interface Restored {
  readonly appliedIndex: number;
  readonly revision: number;
  range(request: RangeRequest): Promise<RangeResponse>;
  close(): Promise<void>;
}

function storeSubject(): Subject {
  const store = new MvccStore(limits);
  const backend = new MemoryBackend();
  return {
    range: async (request) => store.range(request),
    apply: async (entry) => {
      const applied = store.applyEntries([entry]);
      await backend.write(applied.writes, { sync: false });
      return applied.results;
    },
    restore: async () => {
      const restored = await MvccStore.restore(backend.records(), limits);
      const { appliedIndex, revision } = restored;
      return {
        appliedIndex,
        revision,
        range: async (request) => restored.range(request),
        close: async () => undefined,
      };
    },
    get revision() {
      return store.revision;
    },
    close: async () => undefined,
  };
}

/**
 * A MemoryBackend that counts the records read back (values the store had
 * let go), and whose writes take a while, as LevelDB's do: applies and reads
 * go on while one is under way.
 */
class CountingBackend extends MemoryBackend {
  recordsRead = 0;
  override read(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.recordsRead += keys.length;
    return super.read(keys);
  }
  override async write(batch: BackendBatch, options: { readonly sync: boolean }): Promise<void> {
    // A few turns of the microtask queue: the steps after it run meanwhile (a macrotask would outlast them all).
    for (let turn = 0; turn < 4 + (batch.length % 5); turn += 1) await null;
    await super.write(batch, options);
  }
}

/**
 * The store through DurableKv. After one write in three the test waits for
 * the backend to hold it (and the store to let go of the values it
 * superseded), after the next it goes on while the write is under way, and
 * the third waits for a later one: reads meet released values, superseded
 * values still in memory, and writes under way.
 */
async function durableSubject(): Promise<Subject> {
  const backend = new CountingBackend();
  const syncs: Promise<void>[] = [];
  const open = (): Promise<DurableKv> =>
    DurableKv.open({ dataDir: '/nonexistent', backend, limits, writeBehindMs: 3_600_000 });
  const counted = async <T>(kind: string, run: () => Promise<T>): Promise<T> => {
    const before = backend.recordsRead;
    const result = await run();
    if (backend.recordsRead > before) seen.set(kind, (seen.get(kind) ?? 0) + 1);
    return result;
  };
  const range = (kv: DurableKv, request: RangeRequest): Promise<RangeResponse> =>
    counted('read of released values', async () => (await kv.range(request)).response);
  const kv = await open();
  return {
    range: (request) => range(kv, request),
    apply: (entry) =>
      counted('txn read of released values', async () => {
        const results = await kv.apply([entry]);
        if (entry.index % 3 === 0) await kv.sync();
        else if (entry.index % 3 === 1) {
          const syncing = kv.sync();
          syncing.catch(() => undefined); // awaited before the restore
          syncs.push(syncing);
        }
        return results;
      }),
    close: () => kv.close(),
    restore: async () => {
      await Promise.all(syncs);
      await kv.sync();
      const restored = await open();
      return {
        appliedIndex: restored.appliedIndex,
        revision: restored.store.revision,
        range: (request) => range(restored, request),
        close: () => restored.close(),
      };
    },
    get revision() {
      return kv.store.revision;
    },
  };
}

async function outcomeOfAsync(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await run() };
  } catch (error) {
    if (error instanceof WeftError) return { code: error.code };
    throw error;
  }
}

async function runSteps(steps: readonly Step[], subject: Subject = storeSubject()): Promise<void> {
  let restored: Restored | undefined;
  try {
    restored = await compareSteps(steps, subject);
  } finally {
    // A failed comparison too: DurableKv's write-behind timer would keep the test alive.
    await subject.close();
    await restored?.close();
  }
}

async function compareSteps(steps: readonly Step[], subject: Subject): Promise<Restored> {
  const model = new Model();
  let index = 0;
  for (const step of steps) {
    if (step.kind === 'read') {
      const outcome = await outcomeOfAsync(() => subject.range(step.request));
      assert.deepEqual(
        outcome,
        outcomeOf(() => model.range(step.request)),
      );
      const kind = `read ${'code' in (outcome as object) ? (outcome as { code: string }).code : 'ok'}`;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      continue;
    }
    index += 1;
    const entry: Entry =
      step.kind === 'noop'
        ? { term: 1, index, kind: 'noop', data: new Uint8Array(0) }
        : { term: 1, index, kind: 'normal', data: encodeCommand(step.command) };
    const results = await subject.apply(entry);
    if (step.kind === 'noop') {
      assert.equal(results.length, 0);
      continue;
    }
    const [result] = results;
    assert.equal(result?.index, index);
    count(result);
    assert.deepEqual(normalise(result), normalise({ index, ...model.apply(step.command) }));
  }
  const restored = await subject.restore();
  assert.equal(restored.appliedIndex, index);
  assert.equal(restored.revision, subject.revision);
  for (let revision = 0; revision <= subject.revision; revision += 1) {
    const everything: RangeRequest = { key: bytes('\x00'), rangeEnd: bytes('\x00'), revision };
    assert.deepEqual(
      await outcomeOfAsync(() => restored.range(everything)),
      outcomeOf(() => model.range(everything)),
    );
  }
  return restored;
}

describe('MVCC store against a naive model', () => {
  it('agrees on every result, event, error and read over random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 60, size: 'max' }), (steps) => runSteps(steps)),
      { numRuns: 2000 },
    );
    const expected = [
      'put',
      'deleteRange (several keys)',
      'txn succeeded=true',
      'txn succeeded=false',
      'compact',
      'duplicate',
    ];
    for (const kind of [
      ...expected,
      'error COMPACTED',
      'error FUTURE_REV',
      'error KEY_NOT_FOUND',
      'error DUPLICATE_KEY',
    ]) {
      assert.ok(
        (seen.get(kind) ?? 0) >= 20,
        `only ${seen.get(kind) ?? 0} outcomes of kind ${kind}: ${JSON.stringify([...seen])}`,
      );
    }
  });

  it('agrees through the backend, with the values of superseded versions let go from memory', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 60, size: 'max' }), async (steps) =>
        runSteps(steps, await durableSubject()),
      ),
      { numRuns: 2000 },
    );
    for (const kind of ['read of released values', 'txn read of released values']) {
      assert.ok((seen.get(kind) ?? 0) >= 20, `only ${seen.get(kind) ?? 0} of kind ${kind}`);
    }
  });

  it('the model catches a planted bug (a store that forgets compaction)', async () => {
    const steps: Step[] = [
      {
        kind: 'write',
        command: { requestId: 0, command: { op: 'put', request: { key: bytes('a'), value: bytes('x') } } },
      },
      {
        kind: 'write',
        command: { requestId: 0, command: { op: 'put', request: { key: bytes('a'), value: bytes('y') } } },
      },
      { kind: 'write', command: { requestId: 0, command: { op: 'compact', request: { revision: 3 } } } },
      { kind: 'read', request: { key: bytes('a'), revision: 2 } },
    ];
    await runSteps(steps);
    const original = MvccStore.prototype.range;
    MvccStore.prototype.range = function (this: MvccStore, request: RangeRequest) {
      return request.revision === 2 ? { kvs: [], more: false, count: 0 } : original.call(this, request);
    };
    try {
      await assert.rejects(runSteps(steps), assert.AssertionError);
    } finally {
      MvccStore.prototype.range = original;
    }
  });
});
