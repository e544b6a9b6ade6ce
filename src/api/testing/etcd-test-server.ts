import * as grpc from '@grpc/grpc-js';
import { etcdReceiveLimitBytes, etcdServerOptions, registerEtcdServices } from '../etcd/register.ts';
import { UnaryGrpcServer } from '../etcd/unary-grpc-server.ts';
import { SingleNodeKv, type SingleNodeOptions } from './single-node-kv.ts';

export interface EtcdTestServer {
  /** host:port of the etcd-compatible gRPC endpoint. */
  readonly endpoint: string;
  readonly kv: SingleNodeKv;
  stop(): Promise<void>;
}

/**
 * Which server a node would serve the etcd API with: its own client port
 * (--client-port: UnaryGrpcServer) or the peer port (grpc-js's server).
 */
export type EtcdServerKind = 'client-port' | 'peer-port';

/** An in-process etcd-compatible gRPC server on a free loopback port, over a SingleNodeKv. */
export async function startEtcdTestServer(
  options: SingleNodeOptions & { readonly server?: EtcdServerKind } = {},
): Promise<EtcdTestServer> {
  if (options.server === 'peer-port') return startOnGrpcJs(options);
  const server = new UnaryGrpcServer({ maxReceiveMessageBytes: etcdReceiveLimitBytes(options.limits) });
  const port = await server.listen('127.0.0.1', 0);
  const endpoint = `127.0.0.1:${port}`;
  const kv = new SingleNodeKv({ clientUrls: [`http://${endpoint}`], ...options });
  registerEtcdServices(server, { kv, cluster: kv });
  return { endpoint, kv, stop: () => server.close(1_000) };
}

async function startOnGrpcJs(options: SingleNodeOptions): Promise<EtcdTestServer> {
  const server = new grpc.Server(etcdServerOptions(options.limits));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  const endpoint = `127.0.0.1:${port}`;
  const kv = new SingleNodeKv({ clientUrls: [`http://${endpoint}`], ...options });
  registerEtcdServices(server, { kv, cluster: kv });
  return {
    endpoint,
    kv,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
