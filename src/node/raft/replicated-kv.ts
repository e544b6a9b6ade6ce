import { randomInt } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WeftError } from '../../core/errors.ts';
import { clusterIdOf, fnv1a64, hexId, memberIdOf, nodeIdHint, nodeIdPattern } from '../../core/ids.ts';
import type { Command, CommandResponse } from '../../kv/command.ts';
import { encodeCommand } from '../../kv/command-codec.ts';
import { peerAddressOf } from '../../kv/wire/cluster-wire.ts';
import type { ApplyResult } from '../../kv/mvcc-store.ts';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../kv/types.ts';
import type { NodeId } from '../../raft/types.ts';
import { raceWithDeadline } from '../../transport/deadline.ts';
import type { PeerTransport } from '../../transport/transport.ts';
import type { Logger } from '../logger.ts';
import type {
  Answer,
  CallOptions,
  ClusterMember,
  ClusterService,
  KvService,
  MemberAddRequest,
  NodeStatus,
  ReadOptions,
  ResponseHeader,
  WriteOptions,
} from '../kv-service.ts';
import { ClientUrlExchange } from './client-urls.ts';
import { MembershipHandler, type MemberOp } from './membership.ts';
import { decodeProposals, ProposalForwarder, resendAfterMs } from './proposal-forwarder.ts';
import { nodeStopping, type RaftLoop } from './raft-loop.ts';
import { untilDeadline } from './retry.ts';

export interface ReplicatedKvOptions {
  /** Shared by every member (etcd's --initial-cluster-token); the cluster id is its hash. */
  readonly clusterToken: string;
  readonly version: string;
  /** Where clients reach this member's etcd-compatible API. */
  readonly clientUrl: string;
  readonly dataDir: string;
  readonly log: Logger;
}

/** The peer channel followers forward proposals on (one-way; see ProposalForwarder). */
const proposeChannel = 'kv.propose';

/**
 * The replicated key-value store as the API layer sees it (KvService and
 * ClusterService). Any member serves any request: writes are proposed on the
 * leader, and a follower forwards them over the peer transport; linearizable
 * reads take a (batched) ReadIndex on whichever member is asked and are
 * served from its own store once it has applied that index; serializable
 * reads are served locally at once. While there is no leader, calls wait for
 * one until their deadline. A write that fails to commit because leadership
 * moved (NOT_LEADER, PROPOSAL_DROPPED) is retried with the same request id,
 * so it applies at most once.
 */
export class ReplicatedKv implements KvService, ClusterService {
  readonly clusterId: bigint;
  /** This member's id, hashed once: every response header carries it. */
  private readonly memberId: bigint;
  private readonly membership: MembershipHandler;
  private readonly forwarder: ProposalForwarder;
  private readonly clientUrls: ClientUrlExchange;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly loop: RaftLoop,
    private readonly transport: PeerTransport,
    private readonly options: ReplicatedKvOptions,
  ) {
    this.clusterId = clusterIdOf([options.clusterToken]);
    this.memberId = memberIdOf(loop.id);
    this.membership = new MembershipHandler(loop, transport);
    this.clientUrls = new ClientUrlExchange(
      { id: loop.id, clientUrl: options.clientUrl },
      {
        transport,
        directory: loop.directory,
        members: () => this.memberNames(),
        log: options.log,
      },
    );
    this.forwarder = new ProposalForwarder({
      self: loop.id,
      leader: () => loop.node.leader,
      address: (member) => loop.directory.address(member),
      send: (address, payload) => transport.send(address, proposeChannel, payload),
      proposeHere: (commands) => this.proposeIfLeader(commands),
    });
    loop.onApplied((results) => this.forwarder.onApplied(results));
    loop.onLeaderChange(() => {
      this.forwarder.onLeaderChange();
      const { waiting } = this.forwarder;
      const leader = loop.node.leader;
      // After a failover, when the writes clients sent meanwhile leave for the new leader.
      if (waiting > 0 && leader !== '') options.log.info({ leader, writes: waiting }, 'forwarding held writes');
    });
  }

  /** Take proposals forwarded by followers, membership requests, and other members' client URLs. */
  serve(): void {
    this.transport.onMessage(proposeChannel, (payload, { from }) => {
      // Not the leader (any more): the sender sends them again to the leader it learns of.
      if (this.loop.node.role !== 'leader') return;
      try {
        this.proposeIfLeader(decodeProposals(payload));
      } catch (error) {
        this.options.log.warn({ err: error, from }, 'dropped undecodable forwarded proposals');
      }
    });
    this.sweepTimer = setInterval(() => this.forwarder.sweep(), resendAfterMs / 4).unref();
    this.membership.serve();
    this.clientUrls.serve();
    this.clientUrls.start();
  }

  /** Append forwarded commands if this member leads; false otherwise (their senders send them again). */
  private proposeIfLeader(commands: readonly Uint8Array[]): boolean {
    if (this.loop.node.role !== 'leader') return false;
    try {
      this.loop.proposeForwarded(commands);
      return true;
    } catch {
      return false; // a leadership transfer is under way: the next leader gets them
    }
  }

  /** Fail the writes still waiting here (the node is stopping). */
  close(): void {
    clearInterval(this.sweepTimer);
    this.clientUrls.close();
    this.forwarder.close(nodeStopping());
  }

  // ---- KV ---------------------------------------------------------------------

  async range(request: RangeRequest, options: ReadOptions = {}): Promise<Answer<RangeResponse>> {
    this.checkServing();
    if ((options.consistency ?? 'linearizable') === 'linearizable') {
      await untilDeadline(
        options,
        'linearizable read',
        () => this.loop.reads.read(),
        () => this.checkServing(),
      );
    }
    const { revision, response } = await this.loop.kv.range(request);
    return { header: this.header(revision), response };
  }

  async put(request: PutRequest, options?: WriteOptions): Promise<Answer<PutResponse>> {
    const { header, response } = await this.write({ op: 'put', request }, options);
    return { header, response: response?.type === 'put' ? response.response : {} };
  }

  async deleteRange(request: DeleteRangeRequest, options?: WriteOptions): Promise<Answer<DeleteRangeResponse>> {
    const { header, response } = await this.write({ op: 'deleteRange', request }, options);
    if (response?.type !== 'deleteRange') throw alreadyApplied(header.revision);
    return { header, response: response.response };
  }

  async txn(request: TxnRequest, options?: WriteOptions & ReadOptions): Promise<Answer<TxnResponse>> {
    // Every txn goes through the log, read-only ones too: simple and linearizable.
    const { header, response } = await this.write({ op: 'txn', request }, options);
    if (response?.type !== 'txn') throw alreadyApplied(header.revision);
    return { header, response: response.response };
  }

  async compact(request: CompactionRequest, options?: WriteOptions): Promise<Answer<Record<string, never>>> {
    const { header } = await this.write({ op: 'compact', request }, options);
    return { header, response: {} };
  }

  private async write(
    command: Command,
    options: WriteOptions = {},
  ): Promise<{ header: ResponseHeader; response: CommandResponse | undefined }> {
    this.checkServing();
    const requestId = options.requestId ?? randomInt(1, 2 ** 48);
    const data = encodeCommand({ requestId, command });
    const result = await untilDeadline(
      options,
      'write',
      (remainingMs) => this.proposeAnywhere(requestId, data, remainingMs),
      () => this.checkServing(),
    );
    if (result === undefined) throw new WeftError('INVALID_REQUEST', 'the command was not understood by the store');
    const outcome = result.outcome;
    if (outcome.status === 'error') throw outcome.error;
    if (outcome.status === 'duplicate') return { header: this.header(outcome.revision), response: undefined };
    return { header: this.header(result.revision), response: outcome.response };
  }

  /** Propose on the leader: here, or forwarded to it (also while there is none yet: it goes to the next). */
  private async proposeAnywhere(
    requestId: number,
    data: Uint8Array,
    remainingMs: number,
  ): Promise<ApplyResult | undefined> {
    if (this.loop.node.role === 'leader')
      return raceWithDeadline(this.loop.propose(data), { timeoutMs: remainingMs }, 'write');
    return this.forwarder.forward(requestId, data, { timeoutMs: remainingMs });
  }

  // ---- membership ----------------------------------------------------------------

  async members(): Promise<Answer<readonly ClusterMember[]>> {
    return { header: this.header(this.loop.kv.store.revision), response: this.memberList() };
  }

  async addMember(
    request: MemberAddRequest,
    options?: CallOptions,
  ): Promise<Answer<{ member: ClusterMember; members: readonly ClusterMember[] }>> {
    const url = request.peerUrls[0];
    if (url === undefined) throw new WeftError('INVALID_REQUEST', 'a new member needs a peer URL (http://host:port)');
    const address = peerAddressOf(url);
    const name = request.name ?? `m-${hexId(fnv1a64(address)).slice(0, 12)}`;
    if (!nodeIdPattern.test(name)) {
      // The name is the new node's --id, which refuses anything else: such a member could never start.
      throw new WeftError('INVALID_REQUEST', `member name ${JSON.stringify(name)} is not a node id: ${nodeIdHint}`);
    }
    await this.changeMembership({ op: 'add', name, address, learner: request.isLearner }, options);
    const members = this.memberList();
    const member = members.find((m) => m.name === name);
    if (member === undefined)
      throw new WeftError('MEMBER_NOT_FOUND', `${name} was added but is not in the membership yet; list members again`);
    return { header: this.header(this.loop.kv.store.revision), response: { member, members } };
  }

  async removeMember(id: bigint, options?: CallOptions): Promise<Answer<readonly ClusterMember[]>> {
    await this.changeMembership({ op: 'remove', name: this.nameOf(id) }, options);
    return { header: this.header(this.loop.kv.store.revision), response: this.memberList() };
  }

  async promoteMember(id: bigint, options?: CallOptions): Promise<Answer<readonly ClusterMember[]>> {
    await this.changeMembership({ op: 'promote', name: this.nameOf(id) }, options);
    return { header: this.header(this.loop.kv.store.revision), response: this.memberList() };
  }

  async status(): Promise<NodeStatus> {
    const status = this.loop.status();
    const successors = this.loop.node.successors();
    return {
      header: this.header(this.loop.kv.store.revision),
      version: this.options.version,
      dbSizeBytes: await directoryBytes(join(this.options.dataDir, 'kv')),
      leader: status.leader === '' ? 0n : memberIdOf(status.leader),
      raftIndex: status.commit,
      raftTerm: status.term,
      raftAppliedIndex: this.loop.appliedIndex(),
      isLearner: status.conf.learners.includes(this.loop.id),
      errors: this.loop.removed ? ['this member was removed from the cluster'] : [],
      ...(successors.length > 0 ? { successorRanking: successors.map(memberIdOf) } : {}),
    };
  }

  /**
   * Have the leader apply a membership change, then catch up with it here
   * (a ReadIndex round), so the member list this node answers with shows
   * the change even when the leader applied it first. A member that removed
   * itself has nothing to catch up with.
   */
  private async changeMembership(op: MemberOp, options: CallOptions = {}): Promise<void> {
    await this.membership.request(op, options);
    if (op.op === 'remove' && op.name === this.loop.id) return;
    await untilDeadline(
      options,
      `member ${op.op}`,
      () => this.loop.reads.read(),
      () => this.checkServing(),
    );
  }

  private memberList(): ClusterMember[] {
    const { voters, learners } = this.loop.status().conf;
    return [...voters, ...learners].map((name) => {
      const address = this.loop.directory.address(name);
      const peerUrls = address === undefined ? [] : [`http://${address}`];
      // A member that has not announced its client URL to this one is, to etcd's clients, not started.
      const clientUrl = name === this.loop.id ? this.options.clientUrl : this.loop.directory.clientUrl(name);
      return {
        id: memberIdOf(name),
        name,
        peerUrls,
        clientUrls: clientUrl === undefined ? [] : [clientUrl],
        isLearner: learners.includes(name),
        started: clientUrl !== undefined,
      };
    });
  }

  /** Every member's node id, voters and learners. */
  private memberNames(): NodeId[] {
    const { voters, learners } = this.loop.status().conf;
    return [...voters, ...learners];
  }

  private nameOf(id: bigint): NodeId {
    const name = this.memberNames().find((n) => memberIdOf(n) === id);
    if (name === undefined)
      throw new WeftError('MEMBER_NOT_FOUND', `no member has id ${hexId(id)}; list the members to see their ids`);
    return name;
  }

  private header(revision: number): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.loop.node.term };
  }

  private checkServing(): void {
    if (this.loop.removed) {
      throw new WeftError(
        'NODE_REMOVED',
        'this member was removed from the cluster and no longer serves; use another member',
      );
    }
  }
}

/** A retried request whose first copy applied: its result was not kept (only its revision). */
function alreadyApplied(revision: number): WeftError {
  return new WeftError(
    'ALREADY_APPLIED',
    `this request id was already applied (at revision ${revision}); its result is not kept, read the keys to see it`,
    { revision },
  );
}

async function directoryBytes(dir: string): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const sizes = await Promise.all(
    names.map((name) =>
      stat(join(dir, name)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}
