import { assert } from '../../core/assert.ts';
import type { Operation } from './history.ts';
import type { Model, Partition, StepResult } from './model.ts';

/**
 * The sequential specification of weft's key-value store as clients see it:
 * keys map to string values, and `null` means the key is absent. Operations
 * on different keys never constrain each other, so histories are checked one
 * key at a time (the partition).
 */
export type KvInput =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  /** Sets `value` if the key's value is `expected` (`null`: only if absent). */
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type KvOutput =
  /** What a get saw. */
  | { readonly kind: 'value'; readonly value: string | null }
  /** A put or delete that was applied, or a cas that matched. */
  | { readonly kind: 'ok' }
  /** A cas whose expected value did not match; `actual` is the value the store reported, when it did. */
  | { readonly kind: 'failed'; readonly actual?: string | null };

export type KvState = ReadonlyMap<string, string>;

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => new Map(),
  step: stepKv,
  hash: (state) => JSON.stringify([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  partition: partitionByKey,
  describeOperation: describeKvOperation,
  describeState: (state) =>
    state.size === 0
      ? 'every key is absent'
      : [...state].map(([key, value]) => `${JSON.stringify(key)} = ${JSON.stringify(value)}`).join(', '),
};

function stepKv(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
  switch (input.kind) {
    case 'get': {
      if (output === undefined) return { ok: true, next: state };
      assert(output.kind === 'value', 'a get answers a value');
      return output.value === (state.get(input.key) ?? null) ? { ok: true, next: state } : { ok: false };
    }
    case 'put':
      assert(output === undefined || output.kind === 'ok', 'a put answers ok');
      return { ok: true, next: withValue(state, input.key, input.value) };
    case 'delete':
      assert(output === undefined || output.kind === 'ok', 'a delete answers ok');
      return { ok: true, next: withValue(state, input.key, null) };
    case 'cas':
      return stepCas(state, input, output);
  }
}

function stepCas(
  state: KvState,
  input: Extract<KvInput, { kind: 'cas' }>,
  output: KvOutput | undefined,
): StepResult<KvState> {
  const current = state.get(input.key) ?? null;
  const matches = current === input.expected;
  const applied = matches ? withValue(state, input.key, input.value) : state;
  if (output === undefined) return { ok: true, next: applied };
  assert(output.kind !== 'value', 'a cas answers ok or failed');
  if (output.kind === 'ok') return matches ? { ok: true, next: applied } : { ok: false };
  const agrees = !matches && (output.actual === undefined || output.actual === current);
  return agrees ? { ok: true, next: state } : { ok: false };
}

function withValue(state: KvState, key: string, value: string | null): KvState {
  const next = new Map(state);
  if (value === null) next.delete(key);
  else next.set(key, value);
  return next;
}

function partitionByKey(history: readonly KvOperation[]): Partition<KvInput, KvOutput>[] {
  const byKey = new Map<string, KvOperation[]>();
  for (const operation of history) {
    const operations = byKey.get(operation.input.key);
    if (operations === undefined) byKey.set(operation.input.key, [operation]);
    else operations.push(operation);
  }
  return [...byKey].map(([key, operations]) => ({ label: `key ${JSON.stringify(key)}`, operations }));
}

function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const key = JSON.stringify(input.key);
  const call =
    input.kind === 'get' || input.kind === 'delete'
      ? `${input.kind}(${key})`
      : input.kind === 'put'
        ? `put(${key}, ${JSON.stringify(input.value)})`
        : `cas(${key}, ${describeValue(input.expected)} → ${JSON.stringify(input.value)})`;
  return `${call} → ${describeOutput(output)}`;
}

function describeOutput(output: KvOutput | undefined): string {
  if (output === undefined) return '?';
  if (output.kind === 'value') return describeValue(output.value);
  if (output.kind === 'ok' || output.actual === undefined) return output.kind;
  return `failed (saw ${describeValue(output.actual)})`;
}

function describeValue(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}
