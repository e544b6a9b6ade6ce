import { encodeCommand } from '../../src/kv/command-codec.ts';
import type { Entry } from '../../src/raft/types.ts';

/**
 * The crash test's deterministic workload: entry i puts key k<i mod 100> =
 * v<i> with request id i, so the expected log and the expected store follow
 * from the last index alone.
 */
export const KEY_COUNT = 100;
const encoder = new TextEncoder();

export function workloadEntry(index: number): Entry {
  const command = {
    requestId: index,
    command: {
      op: 'put' as const,
      request: { key: encoder.encode(`k${index % KEY_COUNT}`), value: encoder.encode(`v${index}`) },
    },
  };
  return { term: 1, index, kind: 'normal', data: encodeCommand(command) };
}
