import type { FastifyInstance } from 'fastify';
import { listenOnPort, type NodeConfig } from '../node/config.ts';
import type { Logger } from '../node/logger.ts';
import { WeftNode } from '../node/node.ts';
import { dhtClient } from './dht-client-api.ts';
import { registerDhtClientService } from './dht-client-service.ts';
import { etcdReceiveLimitBytes, registerEtcdServices } from './etcd/register.ts';
import { UnaryGrpcServer } from './etcd/unary-grpc-server.ts';
import { buildHttpApp } from './http-app.ts';
import { LateBoundKv } from './late-bound-kv.ts';
import { foundingVoters } from '../node/raft/kv-config.ts';

/**
 * A node with its HTTP server: the unit `weft node` runs. Start order is
 * node then HTTP; stop order is the reverse, so clients are turned away
 * before the peers and stores they depend on go.
 */
export class NodeServer {
  private constructor(
    readonly node: WeftNode,
    private readonly http: FastifyInstance,
    private readonly clientServer: UnaryGrpcServer | undefined,
  ) {}

  static async start(config: NodeConfig, log: Logger): Promise<NodeServer> {
    // The etcd-compatible API: on the peer port (registered before it binds), or on --client-port.
    const etcd = new LateBoundKv(foundingVoters(config)[0] ?? '');
    const onPeerPort = config.clientPort === 0;
    const node = await WeftNode.start(
      config,
      log,
      onPeerPort ? (server) => registerEtcdServices(server, { kv: etcd, cluster: etcd }) : undefined,
    );
    const member = node.kvMember?.kv;
    if (member !== undefined) etcd.bind(member);
    const clientServer = onPeerPort
      ? undefined
      : await listenClient(config, etcd).catch(async (error: unknown) => {
          await node.stop();
          throw error;
        });
    const dht = dhtClient(node.dht);
    registerDhtClientService(node.transport, dht);
    const http = buildHttpApp({
      health: () => node.health(),
      unhealthyReason: () => node.unhealthyReason(),
      notReadyReason: () => node.notReadyReason(),
      metrics: node.metrics,
      log,
      dht,
      cache: node.cache,
      ...(member !== undefined ? { kv: { kv: member, cluster: member } } : {}),
    });
    try {
      await listenHttp(http, config);
    } catch (error) {
      await clientServer?.close(0);
      await node.stop();
      throw error;
    }
    log.info(
      { peerAddress: node.transport.address, http: `http://${config.host}:${config.httpPort}`, dataDir: node.dataPath },
      'node started',
    );
    return new NodeServer(node, http, clientServer);
  }

  async stop(): Promise<void> {
    this.node.log.info('stopping');
    this.node.beginStop();
    await this.http.close();
    await this.clientServer?.close(2_000);
    await this.node.stop();
    this.node.log.info('stopped');
  }
}

async function listenHttp(http: FastifyInstance, config: NodeConfig): Promise<void> {
  await listenOnPort('http-port', config.host, config.httpPort, () =>
    http.listen({ host: config.host, port: config.httpPort }),
  );
}

async function listenClient(config: NodeConfig, etcd: LateBoundKv): Promise<UnaryGrpcServer> {
  const server = new UnaryGrpcServer({ maxReceiveMessageBytes: etcdReceiveLimitBytes() });
  registerEtcdServices(server, { kv: etcd, cluster: etcd });
  await listenOnPort('client-port', config.host, config.clientPort, () =>
    server.listen(config.host, config.clientPort),
  );
  return server;
}
