import * as grpc from '@grpc/grpc-js';
import { etcdServerOptions, registerEtcdServices } from '../etcd/register.ts';
import { SingleNodeKv, type SingleNodeOptions } from './single-node-kv.ts';

export interface EtcdTestServer {
  /** host:port of the etcd-compatible gRPC endpoint. */
  readonly endpoint: string;
  readonly kv: SingleNodeKv;
  stop(): Promise<void>;
}

/** An in-process etcd-compatible gRPC server on a free loopback port, over a SingleNodeKv. */
export async function startEtcdTestServer(options: SingleNodeOptions = {}): Promise<EtcdTestServer> {
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
