import type { Entry } from '../../raft/types.ts';

/**
 * A simulated replica's state machine. `hash` folds every applied entry in
 * order (see chain-machine.ts), which is what the safety checkers compare;
 * a machine may keep more state (the KV machine does).
 */
export interface SimMachine {
  readonly index: number;
  readonly hash: number;
  apply(entry: Entry): void;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}
