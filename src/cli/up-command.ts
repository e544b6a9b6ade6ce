import { join } from 'node:path';
import { describeSchema, integer, oneOf, port, resolveConfig, text, type Schema } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';
import { logLevels, type LogLevel } from '../node/config.ts';
import { parseFlags } from './args.ts';
import { writeClusterFile, type ClusterNodeInfo } from './cluster-file.ts';
import { describeExit, SupervisedNode } from './supervisor.ts';

export interface UpConfig {
  readonly nodes: number;
  readonly host: string;
  readonly basePort: number;
  readonly httpBasePort: number;
  readonly clientBasePort: number;
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly readyTimeoutMs: number;
}

export const upSchema: Schema<UpConfig> = {
  nodes: { doc: 'How many nodes to start', placeholder: '<n>', parse: integer(1, 15), default: 3 },
  host: { doc: 'Loopback address the nodes bind to', placeholder: '<host>', parse: text(), default: '127.0.0.1' },
  basePort: {
    doc: 'Node i (1-based) gets peer port base-port + i',
    placeholder: '<port>',
    parse: port(),
    default: 4000,
  },
  httpBasePort: {
    doc: 'Node i gets HTTP port http-base-port + i',
    placeholder: '<port>',
    parse: port(),
    default: 8080,
  },
  clientBasePort: {
    doc: "Node i serves the etcd API on client-base-port + i (so node 1 on etcd's 2379); 0: on its peer port",
    placeholder: '<port>',
    parse: integer(0, 65535),
    default: 2378,
  },
  dataDir: {
    doc: "Parent directory of the nodes' data directories",
    placeholder: '<dir>',
    parse: text(),
    default: '.weft',
  },
  logLevel: { doc: 'Log level of every node', placeholder: '<level>', parse: oneOf(logLevels), default: 'info' },
  readyTimeoutMs: {
    doc: 'How long to wait for every node to be ready',
    placeholder: '<ms>',
    parse: integer(1_000, 600_000, ' ms'),
    default: 30_000,
  },
};

export const upHelp = [
  'weft up: start a local cluster on loopback; Ctrl-C stops it.',
  '',
  'Flags:',
  ...describeSchema(upSchema),
].join('\n');

const stopGraceMs = 15_000;

export async function runUp(argv: readonly string[], env: Record<string, string>): Promise<number> {
  const args = parseFlags(argv, upSchema);
  if (args.help) {
    console.log(upHelp);
    return 0;
  }
  const config = resolveConfig(upSchema, { flags: args.flags, env, file: {} }).config;
  const members = plan(config);
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  const peers = members.map((m) => `${m.id}=${m.peerAddress}`).join(',');
  const nodes = members.map(
    (m, index) =>
      new SupervisedNode(
        {
          id: m.id,
          args: [
            '--id',
            m.id,
            '--host',
            config.host,
            '--peers',
            peers,
            '--http-port',
            String(new URL(m.httpUrl).port),
            '--data-dir',
            m.dataDir,
            '--log-level',
            config.logLevel,
            ...(config.clientBasePort > 0 ? ['--client-port', String(config.clientBasePort + index + 1)] : []),
          ],
        },
        print,
      ),
  );
  const started = performance.now();
  const failure = await waitUntilReady(nodes, members, config.readyTimeoutMs);
  if (failure !== undefined) {
    console.error(`weft up: ${failure}; stopping the others`);
    await stopAll(nodes);
    return 1;
  }
  await writeClusterFile(config.dataDir, members);
  printEndpoints(members, performance.now() - started);
  return supervise(nodes);
}

function plan(config: UpConfig): ClusterNodeInfo[] {
  const ranges = [
    { field: 'base-port', base: config.basePort },
    { field: 'http-base-port', base: config.httpBasePort },
    ...(config.clientBasePort > 0 ? [{ field: 'client-base-port', base: config.clientBasePort }] : []),
  ];
  for (const [i, range] of ranges.entries()) {
    if (range.base + config.nodes > 65535) {
      throw new ConfigError(
        range.field,
        `${range.base} + ${config.nodes} nodes goes past port 65535; choose a lower base`,
      );
    }
    const overlapping = ranges.slice(0, i).find((other) => Math.abs(other.base - range.base) <= config.nodes);
    if (overlapping !== undefined) {
      throw new ConfigError(
        range.field,
        `its port range overlaps --${overlapping.field}'s; move one of the bases further away`,
      );
    }
  }
  return Array.from({ length: config.nodes }, (_, index) => {
    const id = `n${index + 1}`;
    return {
      id,
      peerAddress: `${config.host}:${config.basePort + index + 1}`,
      httpUrl: `http://${config.host}:${config.httpBasePort + index + 1}`,
      dataDir: join(config.dataDir, id),
      ...(config.clientBasePort > 0 && { clientUrl: `${config.host}:${config.clientBasePort + index + 1}` }),
    };
  });
}

/** Resolves with undefined once every node's /ready answers 200, or with why not. */
async function waitUntilReady(
  nodes: readonly SupervisedNode[],
  members: readonly ClusterNodeInfo[],
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  const pending = new Set(members.map((m) => m.id));
  while (pending.size > 0) {
    for (const node of nodes) {
      if (!node.running) return `node ${node.spec.id} ${describeExit(await node.exited)}`;
    }
    if (performance.now() > deadline) {
      return `nodes ${[...pending].join(', ')} were not ready after ${timeoutMs} ms`;
    }
    await Promise.all(
      members
        .filter((m) => pending.has(m.id))
        .map(async (m) => {
          if (await isReady(m.httpUrl)) pending.delete(m.id);
        }),
    );
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

async function isReady(httpUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${httpUrl}/ready`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

function printEndpoints(members: readonly ClusterNodeInfo[], elapsedMs: number): void {
  console.log(`weft up: ${members.length} nodes ready in ${(elapsedMs / 1000).toFixed(1)} s`);
  for (const m of members) {
    const client = `etcd API ${(m.clientUrl ?? m.peerAddress).padEnd(16)}`;
    console.log(
      `  ${m.id.padEnd(4)} ${client} peer ${m.peerAddress.padEnd(16)} http ${m.httpUrl.padEnd(24)} data ${m.dataDir}`,
    );
  }
  console.log('Stop with Ctrl-C.');
}

/** Run until a signal (exit 0 after stopping all) or until every node died (exit 1). */
function supervise(nodes: readonly SupervisedNode[]): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    for (const node of nodes) {
      void node.exited.then((exit) => {
        if (stopping) return;
        console.error(`weft up: node ${node.spec.id} ${describeExit(exit)}`);
        if (nodes.every((n) => !n.running)) {
          console.error('weft up: every node has stopped');
          resolve(1);
        }
      });
    }
    const onSignal = (): void => {
      if (stopping) return;
      stopping = true;
      console.log(`weft up: stopping ${nodes.filter((n) => n.running).length} nodes`);
      void stopAll(nodes).then((clean) => {
        console.log(clean ? 'weft up: all nodes stopped' : 'weft up: some nodes had to be killed');
        resolve(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** SIGTERM every node, wait, SIGKILL stragglers. True when all stopped in time. */
async function stopAll(nodes: readonly SupervisedNode[]): Promise<boolean> {
  for (const node of nodes) node.signal('SIGTERM');
  const timeout = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), stopGraceMs).unref());
  const outcome = await Promise.race([Promise.all(nodes.map((n) => n.exited)), timeout]);
  if (outcome !== 'late') return true;
  for (const node of nodes) node.signal('SIGKILL');
  await Promise.all(nodes.map((n) => n.exited));
  return false;
}
