/**
 * Invariant checks that stay on in production (TigerStyle): an assertion
 * failure means the code is wrong, and the only safe reaction is to stop.
 * Operating errors (bad input, a dead peer) use typed errors instead.
 */
export class AssertionFailure extends Error {
  override readonly name = 'AssertionFailure';
}

export function assert(condition: unknown, invariant: string): asserts condition {
  if (!condition) throw new AssertionFailure(`invariant broken: ${invariant}`);
}

/** Marks a branch the type system proves unreachable. */
export function unreachable(value: never, context: string): never {
  throw new AssertionFailure(`unreachable: ${context}: ${JSON.stringify(value)}`);
}
