import type { Entry } from '../../raft/types.ts';
import type { SimMachine } from './machine.ts';

/**
 * The simulator's state machine for plain Raft runs: it folds every applied
 * entry into a running hash, so two replicas that applied the same entries
 * in the same order hold the same (index, hash), and any divergence shows.
 * Its snapshot is that pair.
 */
export class ChainMachine implements SimMachine {
  index = 0;
  hash = 0;

  apply(entry: Entry): void {
    this.hash = chainHash(this.hash, entry);
    this.index = entry.index;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ index: this.index, hash: this.hash }));
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as { index: number; hash: number };
    this.index = parsed.index;
    this.hash = parsed.hash;
  }
}

/** FNV-1a over the previous hash, the entry's term, kind and data. */
export function chainHash(previous: number, entry: Entry): number {
  let h = (previous ^ 0x811c9dc5) >>> 0;
  const mix = (byte: number): void => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const byte of [entry.term, entry.term >>> 8, entry.term >>> 16, entry.kind.length]) mix(byte);
  for (const byte of entry.data) mix(byte);
  return h;
}

export function dataKey(entry: Entry): string {
  return `${entry.term}|${entry.kind}|${new TextDecoder().decode(entry.data)}`;
}
