import { integer, oneOf, port, text, type Schema } from '../../core/config-schema.ts';
import { ConfigError } from '../../core/errors.ts';
import type { AutoCompaction } from '../../kv/auto-compaction.ts';

/** The replicated KV member's settings (part of the node's config schema; docs/config.md). */
export interface KvConfig {
  /** Founding voters of the KV group (ids from --peers); empty: the default rule below. */
  readonly raftVoters: readonly string[];
  readonly consensus: 'raft' | 's-raft';
  readonly heartbeatMs: number;
  readonly electionTicks: number;
  readonly promotionTicks: number;
  readonly clusterState: 'new' | 'existing';
  readonly clusterToken: string;
  readonly clientPort: number;
  readonly snapshotEntries: number;
  readonly walSync: 'fdatasync' | 'none';
  readonly walDelayMs: number;
  readonly autoCompactionMode: 'periodic' | 'revision';
  readonly autoCompactionRetention: string;
}

export const kvConfigSchema: Schema<KvConfig> = {
  raftVoters: {
    doc: 'Founding voters of the replicated KV group, as ids from --peers; a node not listed runs no KV member',
    placeholder: '<id,...>',
    parse: (raw, field) => {
      const ids = String(raw)
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== '');
      if (ids.length === 0) throw new ConfigError(field, 'list at least one member id, or leave it unset');
      return ids;
    },
    default: [],
    defaultDoc: 'every member of --peers when there are at most 7, else the first 5',
  },
  consensus: {
    doc: 'raft, or s-raft: ranked successors take over within milliseconds when the leader dies (docs/s-raft.md)',
    placeholder: '<raft|s-raft>',
    parse: oneOf(['raft', 's-raft'] as const),
    default: 's-raft',
  },
  heartbeatMs: {
    doc: 'Raft heartbeat interval (one tick); every member must use the same',
    placeholder: '<ms>',
    parse: integer(1, 10_000, ' ms'),
    default: 20,
  },
  electionTicks: {
    doc: 'Raft election timeout in heartbeats: a follower waits a random 1x to 2x this before campaigning',
    placeholder: '<n>',
    parse: integer(3, 1_000),
    default: 10,
  },
  promotionTicks: {
    doc: 'S-Raft: heartbeats the first-ranked successor waits before it campaigns',
    placeholder: '<n>',
    parse: integer(2, 1_000),
    default: 3,
  },
  clusterState: {
    doc: 'new: an empty data dir founds the cluster of --peers; existing: it joins a running cluster (after `member add`)',
    placeholder: '<new|existing>',
    parse: oneOf(['new', 'existing'] as const),
    default: 'new',
  },
  clusterToken: {
    doc: 'Names the cluster (its id is the hash): give every member the same token',
    placeholder: '<token>',
    parse: text(),
    default: 'weft',
  },
  clientPort: {
    doc: 'Port of the etcd-compatible gRPC API; 0 serves it on the peer port',
    placeholder: '<port>',
    parse: (raw, field) => (String(raw).trim() === '0' ? 0 : port()(raw, field)),
    default: 0,
  },
  snapshotEntries: {
    doc: 'Entries applied between compactions of the Raft log (the store is synced, the WAL cut; no copy is made)',
    placeholder: '<n>',
    parse: integer(100, 100_000_000),
    // etcd 3.4's --snapshot-count. A compaction copies nothing now (docs/kv.md), so a smaller value costs
    // little in itself; this one lets a member that was down for tens of seconds under load catch up from
    // the log, not from a copy of the whole store made for it on the leader.
    default: 100_000,
  },
  walSync: {
    doc: 'fdatasync: a write is acknowledged only once on disk; none: tests and benchmarks only (loses writes on a crash)',
    placeholder: '<fdatasync|none>',
    parse: oneOf(['fdatasync', 'none'] as const),
    default: 'fdatasync',
  },
  autoCompactionMode: {
    doc: 'periodic: --auto-compaction-retention is a duration of history to keep; revision: a number of revisions to keep (as etcd)',
    placeholder: '<periodic|revision>',
    parse: oneOf(['periodic', 'revision'] as const),
    default: 'periodic',
  },
  autoCompactionRetention: {
    doc: 'History the leader keeps when it compacts on its own: 0 turns it off; periodic: hours, or 30s / 10m / 2h; revision: revisions',
    placeholder: '<retention>',
    parse: text(),
    default: '0',
  },
  walDelayMs: {
    doc: 'Added to every WAL write, to measure how weft does on a slower disk than this one: benchmarks only',
    placeholder: '<ms>',
    parse: integer(0, 1_000, ' ms'),
    default: 0,
  },
};

/** Up to this many members, every member of --peers votes; beyond, the first `votersOfMany` do (etcd advises 3 to 5). */
const allVoteUpTo = 7;
const votersOfMany = 5;

/** The founding voters: --raft-voters, or by the default rule. A single node with no --peers is its own cluster. */
export function foundingVoters(config: KvConfig & { id: string; peers: readonly { id: string }[] }): string[] {
  if (config.raftVoters.length > 0) return [...config.raftVoters];
  const ids = config.peers.map((p) => p.id);
  if (ids.length === 0) return [config.id];
  return ids.length <= allVoteUpTo ? ids : ids.slice(0, votersOfMany);
}

const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** The automatic compaction the config asks for, or undefined when it is off; ConfigError when the retention does not fit the mode. */
export function autoCompactionPolicy(
  config: Pick<KvConfig, 'autoCompactionMode' | 'autoCompactionRetention'>,
): AutoCompaction | undefined {
  const raw = config.autoCompactionRetention.trim();
  if (/^0+(\.0+)?$/.test(raw)) return undefined;
  if (config.autoCompactionMode === 'revision') {
    const retention = Number(raw);
    if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(retention)) {
      throw new ConfigError(
        'auto-compaction-retention',
        `${raw} is not a number of revisions; give a whole number such as 10000, or 0 for off`,
      );
    }
    return { mode: 'revision', retention };
  }
  const hours = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? Number(raw) : undefined;
  const unit = /^([0-9]+)(ms|s|m|h)$/.exec(raw);
  const retentionMs =
    hours !== undefined ? hours * 3_600_000 : unit !== null ? Number(unit[1]) * durationUnits[unit[2]!]! : NaN;
  if (!Number.isFinite(retentionMs) || retentionMs < 1_000) {
    throw new ConfigError(
      'auto-compaction-retention',
      `${raw} is not a retention period; give hours (1, 0.5) or a duration of at least 1s (30s, 10m, 2h), or 0 for off`,
    );
  }
  return { mode: 'periodic', retentionMs };
}

export function checkKvConfig(config: KvConfig & { id: string; peers: readonly { id: string }[] }): void {
  autoCompactionPolicy(config);
  const known = new Set(config.peers.map((p) => p.id));
  for (const id of config.raftVoters) {
    if (!known.has(id))
      throw new ConfigError('raft-voters', `${id} is not in --peers; list voters by their --peers ids`);
  }
  if (config.consensus === 's-raft' && 2 * config.promotionTicks + 1 >= config.electionTicks) {
    throw new ConfigError('promotion-ticks', 'with s-raft, 2 x promotion-ticks + 1 must be less than election-ticks');
  }
}
