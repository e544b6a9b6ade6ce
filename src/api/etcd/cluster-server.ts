import type * as grpc from '@grpc/grpc-js';
import { ETCD_ERRORS } from '../../core/etcd-errors.ts';
import { WeftError } from '../../core/errors.ts';
import { memberToWire } from '../../kv/wire/cluster-wire.ts';
import type { WireMember } from '../../kv/wire/messages.ts';
import { headerToWire, longToBigint } from '../../kv/wire/wire-values.ts';
import type { Answer, ClusterMember, ClusterService } from '../../node/kv-service.ts';
import { unary } from './call-context.ts';
import { unimplemented } from './unimplemented.ts';

interface MemberAddWire {
  peerURLs?: string[];
  isLearner?: boolean;
}
interface MemberIdWire {
  ID?: string;
}

/** etcdserverpb.Cluster over a ClusterService. MemberUpdate is not served (peer URLs are fixed per node id). */
export function clusterHandlers(cluster: ClusterService): grpc.UntypedServiceImplementation {
  return {
    MemberList: unary(async (_wire: unknown, context) => membersReply(await cluster.members(context))),
    MemberAdd: unary(async (wire: MemberAddWire, context) => {
      const peerUrls = checkPeerUrls(wire.peerURLs ?? []);
      const request = { peerUrls, isLearner: wire.isLearner ?? false };
      const answer = await cluster.addMember(
        context.memberName === undefined ? request : { ...request, name: context.memberName },
        context,
      );
      return {
        header: headerToWire(answer.header),
        member: memberToWire(answer.response.member),
        members: answer.response.members.map(memberToWire),
      };
    }),
    MemberRemove: unary(async (wire: MemberIdWire, context) =>
      membersReply(await cluster.removeMember(longToBigint(wire.ID), context)),
    ),
    MemberPromote: unary(async (wire: MemberIdWire, context) =>
      membersReply(await cluster.promoteMember(longToBigint(wire.ID), context)),
    ),
    MemberUpdate: unimplemented('Cluster.MemberUpdate', 'a member keeps its peer URLs; remove it and add it anew'),
  };
}

function membersReply(answer: Answer<readonly ClusterMember[]>): { header: object; members: WireMember[] } {
  return { header: headerToWire(answer.header), members: answer.response.map(memberToWire) };
}

/** As etcd (types.NewURLs): each peer URL is http(s)://host:port with no path. */
export function checkPeerUrls(urls: readonly string[]): string[] {
  const valid = (text: string): boolean => {
    if (!URL.canParse(text)) return false;
    const url = new URL(text);
    return /^https?:$/.test(url.protocol) && url.port !== '' && (url.pathname === '/' || url.pathname === '');
  };
  if (urls.length === 0 || !urls.every(valid)) {
    throw new WeftError('INVALID_REQUEST', ETCD_ERRORS.memberBadUrls.message, { peerUrls: urls });
  }
  return [...urls];
}
