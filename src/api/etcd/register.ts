import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../../kv/limits.ts';
import { ETCD_PROTO_OPTIONS } from '../../kv/wire/messages.ts';
import type { ClusterService, KvService } from '../../node/kv-service.ts';
import { clusterHandlers } from './cluster-server.ts';
import { kvHandlers } from './kv-server.ts';
import { maintenanceHandlers } from './maintenance-server.ts';
import { noChannelz } from '../../transport/grpc-options.ts';

/** Where our etcd-compatible .proto files are (the client loads the same files). */
export const ETCD_PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/**
 * etcd accepts messages up to --max-request-bytes plus 512 KiB of gRPC
 * overhead; a larger one is refused by gRPC itself (RESOURCE_EXHAUSTED).
 * Between the two, the store refuses it with "request is too large".
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The largest message the etcd API takes, on either server (see GRPC_OVERHEAD_BYTES). */
export function etcdReceiveLimitBytes(limits: KvLimits = DEFAULT_KV_LIMITS): number {
  return limits.maxRequestBytes + GRPC_OVERHEAD_BYTES;
}

/** Options for a grpc.Server that serves the etcd API (on the peer port). */
export function etcdServerOptions(limits: KvLimits = DEFAULT_KV_LIMITS): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': etcdReceiveLimitBytes(limits),
    'grpc.max_send_message_length': -1,
    ...noChannelz,
  };
}

interface EtcdServices {
  readonly KV: grpc.ServiceDefinition;
  readonly Cluster: grpc.ServiceDefinition;
  readonly Maintenance: grpc.ServiceDefinition;
}

function loadServices(): EtcdServices {
  const definition = protoLoader.loadSync('rpc.proto', { ...ETCD_PROTO_OPTIONS, includeDirs: [ETCD_PROTO_DIR] });
  const service = (name: string): grpc.ServiceDefinition =>
    definition[`etcdserverpb.${name}`] as unknown as grpc.ServiceDefinition;
  return { KV: service('KV'), Cluster: service('Cluster'), Maintenance: service('Maintenance') };
}

export interface EtcdDeps {
  readonly kv: KvService;
  readonly cluster: ClusterService;
  /** Must equal the store's limits; used for etcd's early txn checks. @default DEFAULT_KV_LIMITS */
  readonly limits?: KvLimits;
}

/**
 * Serves etcd v3's KV, Cluster and Maintenance services on `server` (a
 * grpc.Server or a UnaryGrpcServer), so etcdctl and etcd client libraries
 * work against weft. Call it before the server starts; build a grpc.Server
 * with `etcdServerOptions()` to get etcd's message size limit.
 */
export function registerEtcdServices(server: Pick<grpc.Server, 'addService'>, deps: EtcdDeps): void {
  const services = loadServices();
  server.addService(services.KV, kvHandlers(deps.kv, deps.limits));
  server.addService(services.Cluster, clusterHandlers(deps.cluster));
  server.addService(services.Maintenance, maintenanceHandlers(deps.cluster));
}
