import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../core/errors.ts';
import type { NodeConfig } from '../node/config.ts';
import type { Logger } from '../node/logger.ts';
import { WeftNode } from '../node/node.ts';
import { dhtClient } from './dht-client-api.ts';
import { registerDhtClientService } from './dht-client-service.ts';
import { buildHttpApp } from './http-app.ts';

/**
 * A node with its HTTP server: the unit `weft node` runs. Start order is
 * node then HTTP; stop order is the reverse, so clients are turned away
 * before the peers and stores they depend on go.
 */
export class NodeServer {
  private constructor(
    readonly node: WeftNode,
    private readonly http: FastifyInstance,
  ) {}

  static async start(config: NodeConfig, log: Logger): Promise<NodeServer> {
    const node = await WeftNode.start(config, log);
    const dht = dhtClient(node.dht);
    registerDhtClientService(node.transport, dht);
    const http = buildHttpApp({
      health: () => node.health(),
      notReadyReason: () => node.notReadyReason(),
      metrics: node.metrics,
      log,
      dht,
    });
    try {
      await listenHttp(http, config);
    } catch (error) {
      await node.stop();
      throw error;
    }
    log.info(
      { peerAddress: node.transport.address, http: `http://${config.host}:${config.httpPort}`, dataDir: node.dataPath },
      'node started',
    );
    return new NodeServer(node, http);
  }

  async stop(): Promise<void> {
    this.node.log.info('stopping');
    this.node.beginStop();
    await this.http.close();
    await this.node.stop();
    this.node.log.info('stopped');
  }
}

async function listenHttp(http: FastifyInstance, config: NodeConfig): Promise<void> {
  try {
    await http.listen({ host: config.host, port: config.httpPort });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(
        'http-port',
        `port ${config.httpPort} on ${config.host} is already in use; choose another with --http-port or stop the process using it`,
      );
    }
    throw error;
  }
}
