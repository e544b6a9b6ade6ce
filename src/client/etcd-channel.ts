import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { assert } from '../core/assert.ts';
import { ETCD_PROTO_OPTIONS } from '../kv/wire/messages.ts';

/**
 * A channel to one etcd v3 endpoint and unary calls on it. The schema is the
 * .proto files the weft server serves (read as data, not imported as code);
 * they follow etcd's wire format, so the same calls work against a real etcd.
 */
const protoDir = fileURLToPath(new URL('../api/etcd/proto/', import.meta.url));

export type EtcdMethod =
  | 'KV.Range'
  | 'KV.Put'
  | 'KV.DeleteRange'
  | 'KV.Txn'
  | 'KV.Compact'
  | 'Cluster.MemberList'
  | 'Cluster.MemberAdd'
  | 'Cluster.MemberRemove'
  | 'Cluster.MemberPromote'
  | 'Maintenance.Status';

let loaded: protoLoader.PackageDefinition | undefined;
const definitions = new Map<EtcdMethod, protoLoader.MethodDefinition<object, unknown>>();

function methodDefinition(method: EtcdMethod): protoLoader.MethodDefinition<object, unknown> {
  const known = definitions.get(method);
  if (known !== undefined) return known;
  loaded ??= protoLoader.loadSync('rpc.proto', { ...ETCD_PROTO_OPTIONS, includeDirs: [protoDir] });
  const [service, name] = method.split('.') as [string, string];
  const definition = (loaded[`etcdserverpb.${service}`] as protoLoader.ServiceDefinition)[name];
  assert(definition !== undefined, `rpc.proto declares ${method}`);
  definitions.set(method, definition as protoLoader.MethodDefinition<object, unknown>);
  return definition as protoLoader.MethodDefinition<object, unknown>;
}

export interface ChannelLimits {
  /** Largest request sent (etcd's client default). @default 2 MiB */
  readonly maxSendBytes: number;
  /** Largest response accepted; a bigger range fails with RESOURCE_EXHAUSTED (page it with a limit). @default 64 MiB */
  readonly maxReceiveBytes: number;
  /** The longest a channel waits before reconnecting to a failed endpoint (gRPC's own default is 120 s). @default 2000 */
  readonly maxReconnectBackoffMs: number;
}

export const DEFAULT_CHANNEL_LIMITS: ChannelLimits = {
  maxSendBytes: 2 * 1024 * 1024,
  maxReceiveBytes: 64 * 1024 * 1024,
  maxReconnectBackoffMs: 2000,
};

/** One channel with its own TCP connection (channels never share gRPC's global subchannel pool). */
export function openChannel(endpoint: string, limits: ChannelLimits = DEFAULT_CHANNEL_LIMITS): grpc.Client {
  return new grpc.Client(endpoint, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': limits.maxSendBytes,
    'grpc.max_receive_message_length': limits.maxReceiveBytes,
    'grpc.initial_reconnect_backoff_ms': Math.min(100, limits.maxReconnectBackoffMs),
    'grpc.max_reconnect_backoff_ms': limits.maxReconnectBackoffMs,
    'grpc.use_local_subchannel_pool': 1,
    // grpc-js keeps channelz statistics per call unless told not to; nothing reads them.
    'grpc.enable_channelz': 0,
  });
}

export interface UnaryOptions {
  readonly deadline: number;
  readonly metadata: grpc.Metadata;
  readonly signal?: AbortSignal;
}

/** One unary call; aborting the signal cancels it (it then fails with CANCELLED). */
export function unaryCall<Res>(
  channel: grpc.Client,
  method: EtcdMethod,
  request: object,
  options: UnaryOptions,
): Promise<Res> {
  const definition = methodDefinition(method);
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = channel.makeUnaryRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      options.metadata,
      { deadline: options.deadline },
      (error, response) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve(response as Res);
      },
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
