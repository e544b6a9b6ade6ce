import type { Operation } from '../history.ts';

/**
 * One operation of a hand-written history: client, call time, return time
 * (`'?'` for an unknown outcome), input, and output (omitted when unknown).
 */
export type OperationSpec<I, O> =
  | readonly [clientId: number, call: number, ret: number, input: I, output: O]
  | readonly [clientId: number, call: number, ret: '?', input: I];

/** A history from specs, numbering operations by position. */
export function historyOf<I, O>(...specs: OperationSpec<I, O>[]): Operation<I, O>[] {
  return specs.map((spec, id) => {
    const [clientId, call, , input] = spec;
    if (spec[2] === '?') return { id, clientId, input, call };
    return { id, clientId, input, call, return: spec[2], output: spec[4] };
  });
}
