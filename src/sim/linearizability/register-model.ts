import { assert } from '../../core/assert.ts';
import type { Model, StepResult } from './model.ts';

/**
 * A single compare-and-set register holding an integer, Knossos's
 * `cas-register`: the smallest object with reads, blind writes and
 * conditional writes, for tests of the checker itself and of anything that
 * replicates one value.
 */
export type RegisterInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: number }
  | { readonly kind: 'cas'; readonly expected: number; readonly value: number };

export type RegisterOutput =
  { readonly kind: 'value'; readonly value: number } | { readonly kind: 'ok' } | { readonly kind: 'failed' };

/** The register model, starting at `initial`. */
export function registerModel(initial = 0): Model<number, RegisterInput, RegisterOutput> {
  return {
    init: () => initial,
    step: stepRegister,
    hash: String,
    describeOperation: describeRegisterOperation,
    describeState: (state) => `the register holds ${state}`,
  };
}

function stepRegister(state: number, input: RegisterInput, output: RegisterOutput | undefined): StepResult<number> {
  switch (input.kind) {
    case 'read':
      if (output === undefined) return { ok: true, next: state };
      assert(output.kind === 'value', 'a read answers a value');
      return output.value === state ? { ok: true, next: state } : { ok: false };
    case 'write':
      assert(output === undefined || output.kind === 'ok', 'a write answers ok');
      return { ok: true, next: input.value };
    case 'cas': {
      assert(output === undefined || output.kind !== 'value', 'a cas answers ok or failed');
      const matches = state === input.expected;
      if (output !== undefined && (output.kind === 'ok') !== matches) return { ok: false };
      return { ok: true, next: matches ? input.value : state };
    }
  }
}

function describeRegisterOperation(input: RegisterInput, output: RegisterOutput | undefined): string {
  const call =
    input.kind === 'read'
      ? 'read()'
      : input.kind === 'write'
        ? `write(${input.value})`
        : `cas(${input.expected} → ${input.value})`;
  const result = output === undefined ? '?' : output.kind === 'value' ? String(output.value) : output.kind;
  return `${call} → ${result}`;
}
