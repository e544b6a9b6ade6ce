/**
 * @module
 * The linearizability checker that judges simulated and real-cluster
 * histories of weft's key-value store (docs/linearizability.md).
 *
 * @example
 * ```ts
 * const recorder = new HistoryRecorder<KvInput, KvOutput>(() => clock.nowTicks);
 * const id = recorder.invoke(client, { kind: 'put', key: 'x', value: '1' });
 * recorder.ok(id, { kind: 'ok' }); // or recorder.unknown(id) after a timeout
 * const result = checkLinearizability(kvModel, recorder.history());
 * if (result.verdict === 'violation') console.log(result.explanation);
 * ```
 */
export {
  checkLinearizability,
  DEFAULT_SEARCH_STEPS_MAX,
  type CheckOptions,
  type CheckResult,
  type Linearizable,
  type Linearization,
  type Undecided,
  type Violation,
} from './check.ts';
export { isCompleted, type CompletedOperation, type Operation, type UnknownOperation } from './history.ts';
export { kvModel, type KvInput, type KvOperation, type KvOutput, type KvState } from './kv-model.ts';
export type { Model, Partition, StepResult } from './model.ts';
export { HistoryRecorder } from './recorder.ts';
export { registerModel, type RegisterInput, type RegisterOutput } from './register-model.ts';
