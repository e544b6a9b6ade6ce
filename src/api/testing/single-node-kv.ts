import { clusterIdOf, memberIdOf } from '../../core/ids.ts';
import { WeftError } from '../../core/errors.ts';
import { encodeCommand } from '../../kv/command-codec.ts';
import type { Command, CommandResponse } from '../../kv/command.ts';
import { checkRequestSize, DEFAULT_KV_LIMITS, validateCommand, type KvLimits } from '../../kv/limits.ts';
import { MemoryBackend } from '../../kv/memory-backend.ts';
import { MvccStore } from '../../kv/mvcc-store.ts';
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
import type {
  Answer,
  CallOptions,
  ClusterMember,
  ClusterService,
  KvService,
  MemberAddRequest,
  NodeStatus,
  ResponseHeader,
  WriteOptions,
} from '../../node/kv-service.ts';
import { weftVersion } from '../../node/version.ts';

export interface SingleNodeOptions {
  /** The member's node id. @default 'n1' */
  readonly name?: string;
  readonly clientUrls?: readonly string[];
  readonly peerUrls?: readonly string[];
  readonly limits?: KvLimits;
}

/**
 * A one-member KvService and ClusterService for tests of the API layer: each
 * write is encoded as the node would propose it and applied at once to an
 * in-memory MvccStore (one Raft entry per write, term 1), so requests meet
 * the real store's rules, limits and request-id de-duplication. Members added
 * through MemberAdd never start, so promoting one fails with LEARNER_NOT_READY.
 *
 * `failWith` makes every call fail with a given error (e.g. NotLeaderError)
 * until cleared: how tests stand in for an unavailable cluster.
 */
export class SingleNodeKv implements KvService, ClusterService {
  readonly store: MvccStore;
  readonly self: ClusterMember;
  failWith: WeftError | undefined;
  private readonly backend = new MemoryBackend();
  private readonly clusterId: bigint;
  private memberList: ClusterMember[];
  private lastIndex = 0;

  constructor(options: SingleNodeOptions = {}) {
    const name = options.name ?? 'n1';
    this.store = new MvccStore(options.limits ?? DEFAULT_KV_LIMITS);
    this.self = {
      id: memberIdOf(name),
      name,
      peerUrls: options.peerUrls ?? ['http://127.0.0.1:2380'],
      clientUrls: options.clientUrls ?? [],
      isLearner: false,
    };
    this.clusterId = clusterIdOf([name]);
    this.memberList = [this.self];
  }

  async range(request: RangeRequest, options: CallOptions = {}): Promise<Answer<RangeResponse>> {
    this.admit(options);
    return { header: this.header(), response: this.store.range(request) };
  }

  async put(request: PutRequest, options: WriteOptions = {}): Promise<Answer<PutResponse>> {
    const { header, response } = await this.apply({ op: 'put', request }, options);
    return { header, response: response?.type === 'put' ? response.response : {} };
  }

  async deleteRange(request: DeleteRangeRequest, options: WriteOptions = {}): Promise<Answer<DeleteRangeResponse>> {
    const { header, response } = await this.apply({ op: 'deleteRange', request }, options);
    if (response?.type !== 'deleteRange') throw alreadyApplied(header.revision);
    return { header, response: response.response };
  }

  async txn(request: TxnRequest, options: WriteOptions = {}): Promise<Answer<TxnResponse>> {
    const { header, response } = await this.apply({ op: 'txn', request }, options);
    if (response?.type !== 'txn') throw alreadyApplied(header.revision);
    return { header, response: response.response };
  }

  async compact(request: CompactionRequest, options: WriteOptions = {}): Promise<Answer<Record<string, never>>> {
    const { header } = await this.apply({ op: 'compact', request }, options);
    return { header, response: {} };
  }

  /**
   * Proposes and applies one command. A duplicate request id changed nothing:
   * its response is undefined and its header has the revision the first copy
   * applied at. As the node does, a put or compact then answers an empty
   * response, and a delete or txn (whose result matters) ALREADY_APPLIED.
   */
  private async apply(
    command: Command,
    options: WriteOptions,
  ): Promise<{ header: ResponseHeader; response: CommandResponse | undefined }> {
    this.admit(options);
    validateCommand(command, this.store.limits);
    const data = encodeCommand({ requestId: options.requestId ?? 0, command });
    checkRequestSize(data.length, this.store.limits);
    this.lastIndex += 1;
    const batch = this.store.applyEntries([{ term: 1, index: this.lastIndex, kind: 'normal', data }]);
    await this.backend.write(batch.writes, { sync: false });
    const outcome = batch.results[0]!.outcome;
    if (outcome.status === 'error') throw outcome.error;
    if (outcome.status === 'duplicate')
      return { header: { ...this.header(), revision: outcome.revision }, response: undefined };
    return { header: this.header(), response: outcome.response };
  }

  async members(options: CallOptions = {}): Promise<Answer<readonly ClusterMember[]>> {
    this.admit(options);
    return { header: this.header(), response: [...this.memberList] };
  }

  async addMember(request: MemberAddRequest, options: CallOptions = {}) {
    this.admit(options);
    const taken = this.memberList.some((m) => m.peerUrls.some((url) => request.peerUrls.includes(url)));
    if (taken) throw new WeftError('MEMBER_EXISTS', `a member already has peer URL ${request.peerUrls.join(',')}`);
    const name = request.name ?? new URL(request.peerUrls[0] ?? 'http://unnamed').host;
    const member: ClusterMember = {
      id: memberIdOf(name),
      name,
      peerUrls: [...request.peerUrls],
      clientUrls: [],
      isLearner: request.isLearner,
      started: false,
    };
    this.memberList = [...this.memberList, member];
    return { header: this.header(), response: { member, members: [...this.memberList] } };
  }

  async removeMember(id: bigint, options: CallOptions = {}): Promise<Answer<readonly ClusterMember[]>> {
    this.admit(options);
    const member = this.memberOf(id);
    if (member === this.self) throw new WeftError('CONF_CHANGE_INVALID', `${member.name} is the last voter`);
    this.memberList = this.memberList.filter((m) => m !== member);
    return { header: this.header(), response: [...this.memberList] };
  }

  async promoteMember(id: bigint, options: CallOptions = {}): Promise<Answer<readonly ClusterMember[]>> {
    this.admit(options);
    const member = this.memberOf(id);
    if (!member.isLearner) throw new WeftError('MEMBER_NOT_LEARNER', `${member.name} is not a learner`);
    throw new WeftError('LEARNER_NOT_READY', `${member.name} has not caught up with the leader's log`);
  }

  async status(options: CallOptions = {}): Promise<NodeStatus> {
    this.admit(options);
    let dbSizeBytes = 0;
    for await (const [key, value] of this.backend.records()) dbSizeBytes += key.length + value.length;
    return {
      header: this.header(),
      version: weftVersion,
      dbSizeBytes,
      leader: this.self.id,
      raftIndex: this.lastIndex,
      raftTerm: 1,
      raftAppliedIndex: this.store.appliedIndex,
      isLearner: false,
      errors: [],
    };
  }

  private memberOf(id: bigint): ClusterMember {
    const member = this.memberList.find((m) => m.id === id);
    if (member === undefined) throw new WeftError('MEMBER_NOT_FOUND', `no member has id ${id.toString(16)}`);
    return member;
  }

  private admit(options: CallOptions): void {
    if (options.signal?.aborted === true) throw new WeftError('ABORTED', 'the call was aborted');
    if (this.failWith !== undefined) throw this.failWith;
  }

  private header(): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.self.id, revision: this.store.revision, raftTerm: 1 };
  }
}

function alreadyApplied(revision: number): WeftError {
  return new WeftError(
    'ALREADY_APPLIED',
    `this request id was already applied (at revision ${revision}); its result is not kept, read the keys to see it`,
    { revision },
  );
}
