import { NotLeaderError } from '../core/errors.ts';
import type { ClusterService, KvService } from '../node/kv-service.ts';

/**
 * The etcd gRPC services are registered on the peer port's server before it
 * binds, but the KV member they serve opens only after the transport does.
 * This stands in meanwhile: until the member is bound, and on a node that is
 * not in the KV group, calls fail with NOT_LEADER (UNAVAILABLE for etcd
 * clients), which tells a client to try another endpoint.
 */
export class LateBoundKv implements KvService, ClusterService {
  private target: (KvService & ClusterService) | undefined;

  constructor(private readonly hint: string) {}

  bind(target: KvService & ClusterService): void {
    this.target = target;
  }

  private get member(): KvService & ClusterService {
    if (this.target === undefined) throw new NotLeaderError(this.hint);
    return this.target;
  }

  range: KvService['range'] = (request, options) => this.member.range(request, options);
  put: KvService['put'] = (request, options) => this.member.put(request, options);
  deleteRange: KvService['deleteRange'] = (request, options) => this.member.deleteRange(request, options);
  txn: KvService['txn'] = (request, options) => this.member.txn(request, options);
  compact: KvService['compact'] = (request, options) => this.member.compact(request, options);
  members: ClusterService['members'] = (options) => this.member.members(options);
  addMember: ClusterService['addMember'] = (request, options) => this.member.addMember(request, options);
  removeMember: ClusterService['removeMember'] = (id, options) => this.member.removeMember(id, options);
  promoteMember: ClusterService['promoteMember'] = (id, options) => this.member.promoteMember(id, options);
  status: ClusterService['status'] = (options) => this.member.status(options);
}
