import type { Prng } from '../../../core/prng.ts';
import type { KvInput, KvOutput } from '../kv-model.ts';
import type { RegisterInput, RegisterOutput } from '../register-model.ts';
import type { SequentialObject } from './random-history.ts';

/**
 * Planted bugs, each a way a replicated store really goes wrong:
 * - `stale-read`: a get answers the value the key had before its latest change
 *   (a follower that serves reads without the leader's read index);
 * - `lost-write`: a put answers ok but is never applied (acknowledged before
 *   it was committed, then lost with the old leader);
 * - `broken-cas`: a cas whose expected value does not match succeeds anyway
 *   (the compare ran against a stale value, so two racing cas both win).
 */
export type KvBug = 'stale-read' | 'lost-write' | 'broken-cas';

export const KV_BUGS: readonly KvBug[] = ['stale-read', 'lost-write', 'broken-cas'];

export interface PlantedBug {
  readonly bug: KvBug;
  /** Chance that an operation the bug can affect goes wrong. */
  readonly chance: number;
}

/** An in-memory key-value store, correct unless a bug is planted. */
export class KvStore implements SequentialObject<KvInput, KvOutput> {
  private readonly values = new Map<string, string | null>();
  /** The value each key had before its latest change. */
  private readonly previous = new Map<string, string | null>();

  constructor(
    private readonly prng: Prng,
    private readonly planted?: PlantedBug,
  ) {}

  apply(input: KvInput): KvOutput {
    const current = this.values.get(input.key) ?? null;
    switch (input.kind) {
      case 'get':
        return { kind: 'value', value: this.strikes('stale-read') ? (this.previous.get(input.key) ?? null) : current };
      case 'put':
        if (!this.strikes('lost-write')) this.write(input.key, input.value);
        return { kind: 'ok' };
      case 'delete':
        this.write(input.key, null);
        return { kind: 'ok' };
      case 'cas':
        if (current !== input.expected && !this.strikes('broken-cas')) return { kind: 'failed', actual: current };
        this.write(input.key, input.value);
        return { kind: 'ok' };
    }
  }

  private write(key: string, value: string | null): void {
    const current = this.values.get(key) ?? null;
    if (current !== value) this.previous.set(key, current);
    this.values.set(key, value);
  }

  private strikes(bug: KvBug): boolean {
    return this.planted?.bug === bug && this.prng.chance(this.planted.chance);
  }
}

/** A correct integer register. */
export class Register implements SequentialObject<RegisterInput, RegisterOutput> {
  constructor(private value: number) {}

  apply(input: RegisterInput): RegisterOutput {
    if (input.kind === 'read') return { kind: 'value', value: this.value };
    if (input.kind === 'cas' && input.expected !== this.value) return { kind: 'failed' };
    this.value = input.value;
    return { kind: 'ok' };
  }
}

const VALUES = ['a', 'b', 'c'];

/**
 * Random key-value operations over `keys`, a `readShare` of them gets, with
 * few distinct values so that reads and cas collide often.
 */
export function randomKvInput(prng: Prng, keys: readonly string[], readShare = 0.4): KvInput {
  const key = prng.pick(keys);
  if (prng.chance(readShare)) return { kind: 'get', key };
  const roll = prng.next();
  if (roll < 0.4) return { kind: 'put', key, value: prng.pick(VALUES) };
  if (roll < 0.55) return { kind: 'delete', key };
  return { kind: 'cas', key, expected: prng.chance(0.2) ? null : prng.pick(VALUES), value: prng.pick(VALUES) };
}

/** Random register operations over the values 0..3. */
export function randomRegisterInput(prng: Prng): RegisterInput {
  const roll = prng.next();
  if (roll < 0.45) return { kind: 'read' };
  if (roll < 0.75) return { kind: 'write', value: prng.int(0, 3) };
  return { kind: 'cas', expected: prng.int(0, 3), value: prng.int(0, 3) };
}
