import { assert } from '../../../core/assert.ts';
import type { Prng } from '../../../core/prng.ts';
import type { Operation } from '../history.ts';

/** A mutable sequential object: the "truth" a generated history is recorded from. */
export interface SequentialObject<I, O> {
  apply(input: I): O;
}

export interface WorkloadOptions<I, O> {
  readonly clients: number;
  readonly operations: number;
  /** Chance that a client gives up on an operation, whose outcome is then unknown. */
  readonly unknownChance: number;
  /** Longest time between a call and its return. */
  readonly durationMaxTicks: number;
  readonly object: SequentialObject<I, O>;
  readonly nextInput: (prng: Prng) => I;
}

interface Planned<I> {
  readonly id: number;
  readonly clientId: number;
  readonly input: I;
  readonly call: number;
  readonly return: number;
  readonly unknown: boolean;
  /** When the operation takes effect on the object; undefined: never. */
  readonly effect: number | undefined;
  /** Orders effects at the same tick. */
  readonly tiebreak: number;
}

/**
 * A history recorded from clients running against `object`: each client
 * invokes one operation at a time with a random duration, and each operation
 * takes effect on the object at a random instant within its interval, so a
 * correct object yields a linearizable history by construction. A client
 * that gives up records an unknown outcome; half of those never take effect
 * and the others take effect at a random time after the call, possibly long
 * after the client moved on (a request stuck in a queue).
 */
export function randomHistory<I, O>(prng: Prng, options: WorkloadOptions<I, O>): Operation<I, O>[] {
  assert(options.clients > 0 && options.durationMaxTicks >= 0, 'a workload has clients and durations');
  const planned = plan(prng, options);
  const outputs = new Map<number, O>();
  const effects = planned.filter((operation) => operation.effect !== undefined);
  effects.sort((a, b) => (a.effect ?? 0) - (b.effect ?? 0) || a.tiebreak - b.tiebreak);
  for (const operation of effects) outputs.set(operation.id, options.object.apply(operation.input));
  return planned.map(({ id, clientId, input, call, return: ret, unknown }) => {
    if (unknown) return { id, clientId, input, call };
    const output = outputs.get(id);
    assert(output !== undefined, `completed operation ${id} took effect`);
    return { id, clientId, input, call, return: ret, output };
  });
}

function plan<I, O>(prng: Prng, options: WorkloadOptions<I, O>): Planned<I>[] {
  const clientTimes = Array.from({ length: options.clients }, () => prng.int(0, 3));
  const planned: Planned<I>[] = [];
  for (let id = 0; id < options.operations; id += 1) {
    const clientId = prng.int(0, options.clients - 1);
    const call = (clientTimes[clientId] ?? 0) + prng.int(0, 2);
    const duration = prng.int(0, options.durationMaxTicks);
    const unknown = prng.chance(options.unknownChance);
    const effect = !unknown
      ? call + prng.int(0, duration)
      : prng.chance(0.5)
        ? undefined
        : call + prng.int(0, 3 * options.durationMaxTicks);
    const input = options.nextInput(prng);
    planned.push({ id, clientId, input, call, return: call + duration, unknown, effect, tiebreak: prng.next() });
    clientTimes[clientId] = call + duration;
  }
  return planned;
}
