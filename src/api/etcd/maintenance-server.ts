import type * as grpc from '@grpc/grpc-js';
import { ETCD_ERRORS } from '../../core/etcd-errors.ts';
import { statusToWire } from '../../kv/wire/cluster-wire.ts';
import { headerToWire } from '../../kv/wire/wire-values.ts';
import type { ClusterService } from '../../node/kv-service.ts';
import { unary } from './call-context.ts';
import { unimplemented, unimplementedStatus } from './unimplemented.ts';

/** etcdserverpb.Maintenance: Status is served; every other method answers UNIMPLEMENTED. */
export function maintenanceHandlers(cluster: ClusterService): grpc.UntypedServiceImplementation {
  return {
    Status: unary(async (_wire: unknown, context) => {
      const status = await cluster.status(context);
      // etcd lists "no leader" among a member's errors when it knows of none.
      const noLeader = ETCD_ERRORS.noLeader.message;
      const errors =
        status.leader === 0n && !status.errors.includes(noLeader) ? [...status.errors, noLeader] : status.errors;
      return statusToWire({ ...status, errors }, headerToWire(status.header));
    }),
    Alarm: unimplemented('Maintenance.Alarm', 'weft raises no alarms; `weft status` and /health report node health'),
    Defragment: unimplemented('Maintenance.Defragment', 'the store needs no defragmentation'),
    Hash: unimplemented('Maintenance.Hash', 'compare members with Maintenance.Status revisions'),
    HashKV: unimplemented('Maintenance.HashKV', 'compare members with Maintenance.Status revisions'),
    MoveLeader: unimplemented('Maintenance.MoveLeader', 'leadership moves on its own when a leader stops'),
    Snapshot: (call: grpc.ServerWritableStream<unknown, unknown>) =>
      call.emit('error', unimplementedStatus('Maintenance.Snapshot', 'back up the data directory of a stopped node')),
  };
}
