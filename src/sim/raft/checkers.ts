import type { Role } from '../../raft/raft.ts';
import type { Entry, NodeId, SnapshotMeta } from '../../raft/types.ts';
import { dataKey } from './chain-machine.ts';
import type { SimMachine } from './machine.ts';
import type { SimReplica } from './replica.ts';

export type CheckerName =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'liveness'
  | 'linearizability'
  /** An assert() in the code under test failed. */
  | 'invariant';

export interface Violation {
  readonly checker: CheckerName;
  readonly timeMs: number;
  readonly detail: string;
}

interface CommittedRecord {
  readonly key: string;
  /** The state machine's chain hash after applying this entry. */
  readonly chain: number;
}

/**
 * Raft's safety properties (Figure 3 of the paper), checked as the run goes:
 * - election safety: at most one leader per term;
 * - log matching: two logs with an entry of the same index and term agree
 *   on every entry up to it;
 * - leader completeness: a new leader holds every entry applied anywhere;
 * - state machine safety: every replica applies the same entry at an index.
 * The record of what was applied anywhere is the "committed" ground truth.
 */
export class SafetyChecker {
  readonly violations: Violation[] = [];
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, CommittedRecord>();
  maxCommitted = 0;

  constructor(
    private readonly now: () => number,
    private readonly replicaOf: (id: NodeId) => SimReplica | undefined,
  ) {}

  committedAt(index: number): CommittedRecord | undefined {
    return this.committed.get(index);
  }

  get elections(): number {
    return this.leaders.size;
  }

  statusChanged(id: NodeId, role: Role, term: number): void {
    if (role !== 'leader') return;
    const other = this.leaders.get(term);
    if (other !== undefined && other !== id) {
      this.fail('election-safety', `${id} and ${other} both became leader in term ${term}`);
      return;
    }
    this.leaders.set(term, id);
    this.checkLeaderCompleteness(id, term);
  }

  private checkLeaderCompleteness(id: NodeId, term: number): void {
    const node = this.replicaOf(id)?.node;
    if (node === undefined) return;
    const status = node.status();
    if (status.lastIndex < this.maxCommitted) {
      this.fail(
        'leader-completeness',
        `${id} leads term ${term} with last index ${status.lastIndex} < committed ${this.maxCommitted}`,
      );
      return;
    }
    for (let index = status.firstIndex; index <= this.maxCommitted; index += 1) {
      const record = this.committed.get(index);
      const entry = node.entryAt(index);
      if (record !== undefined && entry !== undefined && dataKey(entry) !== record.key) {
        this.fail(
          'leader-completeness',
          `${id} leads term ${term} without committed entry ${index} (${record.key}); has ${dataKey(entry)}`,
        );
        return;
      }
    }
  }

  applied(id: NodeId, entry: Entry, machine: SimMachine): void {
    const key = dataKey(entry);
    const record = this.committed.get(entry.index);
    if (record === undefined) {
      this.committed.set(entry.index, { key, chain: machine.hash });
      this.maxCommitted = Math.max(this.maxCommitted, entry.index);
      return;
    }
    if (record.key !== key) {
      this.fail(
        'state-machine-safety',
        `${id} applied ${key} at ${entry.index}, where another replica applied ${record.key}`,
      );
    } else if (record.chain !== machine.hash) {
      this.fail(
        'state-machine-safety',
        `${id}'s state after ${entry.index} differs from another replica's (an earlier entry diverged)`,
      );
    }
  }

  restored(id: NodeId, meta: SnapshotMeta, machine: SimMachine): void {
    const record = this.committed.get(meta.index);
    if (record !== undefined && record.chain !== machine.hash) {
      this.fail(
        'state-machine-safety',
        `${id} restored a snapshot at ${meta.index} that differs from the applied state there`,
      );
    }
  }

  /** Compare every pair of live logs (log matching property, §5.3). */
  checkLogMatching(replicas: readonly SimReplica[]): void {
    const live = replicas.filter((r) => r.node !== undefined);
    for (let a = 0; a < live.length; a += 1) {
      for (let b = a + 1; b < live.length; b += 1) {
        const problem = compareLogs(live[a]!, live[b]!);
        if (problem !== undefined) {
          this.fail('log-matching', problem);
          return;
        }
      }
    }
  }

  fail(checker: CheckerName, detail: string): void {
    this.violations.push({ checker, timeMs: this.now(), detail });
  }
}

function compareLogs(a: SimReplica, b: SimReplica): string | undefined {
  const na = a.node!;
  const nb = b.node!;
  const sa = na.status();
  const sb = nb.status();
  const low = Math.max(sa.firstIndex, sb.firstIndex);
  const high = Math.min(sa.lastIndex, sb.lastIndex);
  let matched = false;
  for (let index = high; index >= low; index -= 1) {
    const ea = na.entryAt(index);
    const eb = nb.entryAt(index);
    if (ea === undefined || eb === undefined) continue;
    if (!matched && ea.term === eb.term) matched = true;
    if (matched && !sameEntry(ea, eb)) {
      return `${a.id} and ${b.id} agree on a later entry but differ at ${index}: ${dataKey(ea)} vs ${dataKey(eb)}`;
    }
  }
  return undefined;
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.term !== b.term || a.kind !== b.kind || a.data.byteLength !== b.data.byteLength) return false;
  for (let i = 0; i < a.data.byteLength; i += 1) if (a.data[i] !== b.data[i]) return false;
  return true;
}
