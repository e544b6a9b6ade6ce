import { createPrng } from '../../../core/prng.ts';
import { describeError } from '../../../core/errors.ts';
import { raftConfig, type RaftConfig } from '../../../raft/config.ts';
import type { ConfChangeType } from '../../../raft/conf-change.ts';
import type { Message } from '../../../raft/messages.ts';
import type { Mutations } from '../../../raft/mutations.ts';
import { RaftNode } from '../../../raft/raft-node.ts';
import { genesisState, joiningState } from '../../../raft/bootstrap.ts';
import type { Entry, HardState, NodeId, SnapshotMeta } from '../../../raft/types.ts';
import type { Command } from './datadriven.ts';
import { formatEntries, formatMessage, formatReady } from './format.ts';

/** What survives a crash: exactly what the driver persisted from Readys. */
interface Disk {
  hardState: HardState;
  snapshot: SnapshotMeta;
  entries: Entry[];
}

interface Member {
  node: RaftNode;
  readonly disk: Disk;
  readonly config: RaftConfig;
  readonly mutations: Mutations;
  applied: Entry[];
  crashed: boolean;
}

const encoder = new TextEncoder();

/**
 * A cluster for golden scripts: synchronous, deterministic, no clocks. Each
 * command returns the text that the script expects. Messages wait in one
 * queue until delivered; dropped links discard them.
 */
export class InteractionEnv {
  private readonly members = new Map<NodeId, Member>();
  private queue: Message[] = [];
  private readonly cut = new Set<string>();

  run(command: Command): string {
    try {
      return this.dispatch(command).join('\n');
    } catch (error) {
      return `error: ${describeError(error)}`;
    }
  }

  private dispatch(c: Command): string[] {
    const id = c.args[0] ?? '';
    switch (c.name) {
      case 'add-nodes':
        return this.addNodes(Number(c.args[0]), c.options);
      case 'campaign':
        this.member(id).node.campaign();
        return [];
      case 'propose':
        return this.propose(id, c.args.slice(1));
      case 'propose-conf-change':
        return this.proposeConfChange(id, c.args[1] as ConfChangeType, c.args[2] ?? '');
      case 'tick':
        return this.tick(id, Number(c.args[1] ?? '1'));
      case 'tick-election':
        return this.tick(id, this.member(id).config.electionTicks * 2);
      case 'tick-heartbeat':
        return this.tick(id, this.member(id).config.heartbeatTicks);
      case 'process-ready':
        return c.args.flatMap((n) => this.processReady(n));
      case 'deliver-msgs':
        return this.deliver(c.args, parseList(c.options.get('drop')));
      case 'stabilize':
        return this.stabilize(c.args.length > 0 ? c.args : [...this.members.keys()]);
      case 'cut':
        for (const other of c.args.slice(1)) this.cutLink(id, other);
        return this.dropCutInFlight();
      case 'isolate':
        for (const other of this.members.keys()) if (other !== id) this.cutLink(id, other);
        return this.dropCutInFlight();
      case 'heal':
        this.cut.clear();
        return [];
      case 'read-index':
        this.member(id).node.readIndex(c.args[1] ?? '');
        return [];
      case 'transfer-leadership':
        this.member(id).node.transferLeadership(c.args[1] ?? '');
        return [];
      case 'compact':
        return this.compact(id, Number(c.args[1] ?? '0'));
      case 'crash':
        this.member(id).crashed = true;
        this.queue = this.queue.filter((m) => m.to !== id);
        return [];
      case 'restart':
        return this.restart(id);
      case 'report-rtt':
        this.member(id).node.reportRtt(c.args[1] ?? '', Number(c.args[2]));
        return [];
      case 'report-unreachable':
        this.member(id).node.reportUnreachable(c.args[1] ?? '');
        return [];
      case 'status':
        return this.statusLines(c.args.length > 0 ? c.args : [...this.members.keys()]);
      case 'raft-log':
        return this.logLines(id);
      default:
        throw new Error(`unknown command ${c.name}`);
    }
  }

  /** `add-nodes N` founds a cluster of N voters; `add-nodes N join=true` adds empty members that must be let in. */
  private addNodes(count: number, options: Map<string, string>): string[] {
    const start = this.members.size;
    const ids = Array.from({ length: count }, (_, i) => `n${start + i + 1}`);
    const joining = options.get('join') === 'true';
    const initial = joining ? joiningState() : genesisState(ids);
    for (const id of ids) {
      const config = raftConfig({
        id,
        electionTicks: Number(options.get('election') ?? 10),
        heartbeatTicks: Number(options.get('heartbeat') ?? 1),
        preVote: options.get('prevote') !== 'false',
        checkQuorum: options.get('checkquorum') !== 'false',
        readOnly: options.get('readonly') === 'lease' ? 'lease' : 'safe',
        consensus: options.get('consensus') === 's-raft' ? 's-raft' : 'raft',
        maxSizePerMsgBytes: Number(options.get('maxmsg') ?? 1024 * 1024),
        maxInflightMsgs: Number(options.get('inflight') ?? 256),
      });
      const disk: Disk = { hardState: initial.hardState, snapshot: initial.snapshot, entries: [...initial.entries] };
      const mutations: Mutations = options.get('mutation') === 'commit-old-term' ? { commitOldTerm: true } : {};
      this.members.set(id, {
        node: this.boot(config, disk, mutations),
        disk,
        config,
        mutations,
        applied: [],
        crashed: false,
      });
      // A driver applies what its disk says is committed as soon as it boots.
      this.processReady(id);
    }
    return [`added ${ids.join(', ')}${joining ? ' (joining, empty)' : ' (founding voters)'}`];
  }

  private boot(config: RaftConfig, disk: Disk, mutations: Mutations): RaftNode {
    // One fixed seed per id: golden output must not change from run to run.
    const seed = [...config.id].reduce((sum, ch) => sum * 31 + ch.charCodeAt(0), 7);
    return new RaftNode({
      config,
      prng: createPrng(seed),
      hardState: disk.hardState,
      snapshot: disk.snapshot,
      entries: disk.entries,
      mutations,
    });
  }

  private propose(id: NodeId, values: string[]): string[] {
    const proposed = this.member(id).node.propose(values.map((v) => encoder.encode(v)));
    return [`proposed ${proposed.term}/${proposed.firstIndex}..${proposed.lastIndex}`];
  }

  private proposeConfChange(id: NodeId, type: ConfChangeType, node: NodeId): string[] {
    const proposed = this.member(id).node.proposeConfChange({ type, node, context: '' });
    return [`proposed ${proposed.term}/${proposed.lastIndex}`];
  }

  private tick(id: NodeId, count: number): string[] {
    const member = this.member(id);
    for (let i = 0; i < count; i += 1) member.node.tick();
    return [];
  }

  /** Do what the Ready asks, in its documented order, and queue its messages. */
  private processReady(id: NodeId): string[] {
    const member = this.member(id);
    if (member.crashed || !member.node.hasReady()) return [];
    const ready = member.node.ready();
    const disk = member.disk;
    if (ready.snapshot !== undefined) {
      disk.snapshot = ready.snapshot;
      disk.entries = [];
      member.applied = member.applied.filter((e) => e.index <= (ready.snapshot?.index ?? 0));
    }
    if (ready.hardState !== undefined) disk.hardState = ready.hardState;
    for (const entry of ready.entries) {
      disk.entries = disk.entries.filter((e) => e.index < entry.index);
      disk.entries.push(entry);
    }
    member.applied.push(...ready.committedEntries);
    // A cut link loses what is sent over it, as a partition does.
    const lost = ready.messages.filter((m) => this.cut.has(`${m.from}>${m.to}`));
    this.queue.push(...ready.messages.filter((m) => !lost.includes(m)));
    member.node.advance(ready);
    return [...formatReady(id, ready), ...lost.map((m) => `dropped: ${formatMessage(m)}`)];
  }

  private deliver(ids: string[], drop: string[] | undefined): string[] {
    const lines: string[] = [];
    const targets = new Set(ids.length > 0 ? ids : this.members.keys());
    const dropped = new Set(drop ?? []);
    const pending = this.queue.filter((m) => targets.has(m.to));
    this.queue = this.queue.filter((m) => !targets.has(m.to));
    for (const m of pending) {
      const target = this.members.get(m.to);
      if (target === undefined || target.crashed || this.cut.has(`${m.from}>${m.to}`) || dropped.has(m.from)) {
        lines.push(`dropped: ${formatMessage(m)}`);
        continue;
      }
      lines.push(formatMessage(m));
      target.node.step(m);
    }
    return lines;
  }

  private stabilize(ids: string[]): string[] {
    const lines: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const before = lines.length;
      for (const id of ids) lines.push(...this.processReady(id));
      if (this.queue.some((m) => ids.includes(m.to))) lines.push(...this.deliver(ids, undefined));
      if (lines.length === before) return lines;
    }
    throw new Error('stabilize did not settle in 100 rounds');
  }

  private compact(id: NodeId, keepFrom: number): string[] {
    const member = this.member(id);
    const meta = member.node.appliedSnapshotMeta();
    member.node.compact(meta, keepFrom);
    member.disk.snapshot = meta;
    member.disk.entries = member.disk.entries.filter((e) => e.index > meta.index);
    return [`${id} snapshot at ${meta.term}/${meta.index}, log from ${member.node.status().firstIndex}`];
  }

  /** Restart from the disk alone: everything in memory is lost, as after a crash. */
  private restart(id: NodeId): string[] {
    const member = this.member(id);
    member.node = this.boot(member.config, member.disk, member.mutations);
    member.applied = member.applied.filter((e) => e.index <= member.disk.snapshot.index);
    member.crashed = false;
    this.processReady(id);
    const h = member.disk.hardState;
    return [
      `${id} restarted: term=${h.term} vote=${h.vote || '-'} commit=${h.commit} entries=${member.disk.entries.length}`,
    ];
  }

  private dropCutInFlight(): string[] {
    const lost = this.queue.filter((m) => this.cut.has(`${m.from}>${m.to}`));
    this.queue = this.queue.filter((m) => !lost.includes(m));
    return lost.map((m) => `dropped: ${formatMessage(m)}`);
  }

  private cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  private statusLines(ids: string[]): string[] {
    return ids.map((id) => {
      const s = this.member(id).node.status();
      return `${id}: ${s.role} term=${s.term} leader=${s.leader || '-'} commit=${s.commit} applied=${s.applied} last=${s.lastTerm}/${s.lastIndex} voters=${s.conf.voters.join(',')}${
        s.conf.learners.length > 0 ? ` learners=${s.conf.learners.join(',')}` : ''
      }`;
    });
  }

  private logLines(id: NodeId): string[] {
    const s = this.member(id).node.status();
    const entries = this.member(id).node.logEntries(s.firstIndex, s.lastIndex + 1) ?? [];
    return [`${id} log from ${s.firstIndex}: ${formatEntries(entries)}`];
  }

  private member(id: NodeId): Member {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no node ${id}`);
    return member;
  }
}

function parseList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .replace(/[()]/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
