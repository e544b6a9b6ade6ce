import type { KvInput, KvOutput } from '../linearizability/index.ts';
import type { Entry } from '../../raft/types.ts';
import { chainHash } from './chain-machine.ts';
import type { SimMachine } from './machine.ts';

/** A client's write as it travels through the log. `seq` numbers the client's operations. */
export interface KvWrite {
  readonly client: number;
  readonly seq: number;
  readonly input: Exclude<KvInput, { kind: 'get' }>;
}

interface Session {
  readonly seq: number;
  readonly output: KvOutput;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeWrite(write: KvWrite): Uint8Array {
  return encoder.encode(JSON.stringify(write));
}

function decodeWrite(data: Uint8Array): KvWrite | undefined {
  try {
    const parsed = JSON.parse(decoder.decode(data)) as KvWrite;
    return typeof parsed.client === 'number' && typeof parsed.seq === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The simulator's minimal key-value state machine (string keys and values)
 * with client sessions (Raft thesis §6.3): each client's last sequence
 * number and its result are remembered, so a write retried after a leader
 * change applies once and the retry gets the first result.
 */
export class KvMachine implements SimMachine {
  index = 0;
  hash = 0;
  private values = new Map<string, string>();
  private sessions = new Map<number, Session>();

  apply(entry: Entry): void {
    this.hash = chainHash(this.hash, entry);
    this.index = entry.index;
    if (entry.kind !== 'normal') return;
    const write = decodeWrite(entry.data);
    if (write === undefined) return;
    const session = this.sessions.get(write.client);
    if (session !== undefined && session.seq >= write.seq) return;
    this.sessions.set(write.client, { seq: write.seq, output: this.execute(write.input) });
  }

  private execute(input: KvWrite['input']): KvOutput {
    const current = this.values.get(input.key) ?? null;
    switch (input.kind) {
      case 'put':
        this.values.set(input.key, input.value);
        return { kind: 'ok' };
      case 'delete':
        this.values.delete(input.key);
        return { kind: 'ok' };
      case 'cas':
        if (current !== input.expected) return { kind: 'failed', actual: current };
        this.values.set(input.key, input.value);
        return { kind: 'ok' };
    }
  }

  /** The result of the client's write `seq`, once applied (also when a retry was the copy that applied). */
  result(client: number, seq: number): KvOutput | undefined {
    const session = this.sessions.get(client);
    return session?.seq === seq ? session.output : undefined;
  }

  read(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return encoder.encode(
      JSON.stringify({ index: this.index, hash: this.hash, values: [...this.values], sessions: [...this.sessions] }),
    );
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(decoder.decode(data)) as {
      index: number;
      hash: number;
      values?: [string, string][];
      sessions?: [number, Session][];
    };
    this.index = parsed.index;
    this.hash = parsed.hash;
    this.values = new Map(parsed.values ?? []);
    this.sessions = new Map(parsed.sessions ?? []);
  }
}
