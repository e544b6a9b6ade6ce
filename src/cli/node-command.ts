import { describeSchema, resolveConfig } from '../core/config-schema.ts';
import { describeError } from '../core/errors.ts';
import { finalizeNodeConfig, nodeConfigSchema, type NodeConfig } from '../node/config.ts';
import { createLogger, type Logger } from '../node/logger.ts';
import { NodeServer } from '../api/node-server.ts';
import { parseFlags, readConfigFile } from './args.ts';

export const nodeHelp = [
  'weft node: run one node (peer transport, HTTP server, and its roles).',
  '',
  'Flags (each also as a WEFT_* environment variable or a key in --config; flags win):',
  ...describeSchema(nodeConfigSchema),
  `  ${'--config <file>'.padEnd(34)} A YAML or JSON file of the settings above, keyed by flag name`,
].join('\n');

/** Resolve the node's config from flags, environment and an optional file. */
export async function loadNodeConfig(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<NodeConfig | 'help'> {
  const args = parseFlags(argv, nodeConfigSchema, ['config']);
  if (args.help) return 'help';
  const file = await readConfigFile(args.flags['config'] ?? env['WEFT_CONFIG']);
  return finalizeNodeConfig(resolveConfig(nodeConfigSchema, { flags: args.flags, env, file }));
}

/**
 * `weft node`: start, then stop gracefully on SIGTERM/SIGINT within
 * shutdownTimeoutMs. Resolves with the process exit status.
 */
export async function runNode(config: NodeConfig): Promise<number> {
  const log = createLogger({ nodeId: config.id, level: config.logLevel });
  installCrashHandlers(log);
  const server = await NodeServer.start(config, log);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals | 'supervisor-gone'): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        resolve(1);
        return;
      }
      stopping = true;
      log.info({ signal }, 'signal received, stopping gracefully');
      const deadline = setTimeout(() => {
        log.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful stop took too long; exiting anyway');
        resolve(1);
      }, config.shutdownTimeoutMs);
      server.stop().then(
        () => {
          clearTimeout(deadline);
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          log.error({ err: error }, 'graceful stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Started by `weft up` with an IPC channel: stop when the supervisor is gone. It may have gone
    // while this node was starting, before anyone listened for 'disconnect' (a bench that crashed at
    // the node's first log line left its nodes running for half an hour).
    if (process.send !== undefined) {
      if (!process.connected) onSignal('supervisor-gone');
      else process.on('disconnect', () => onSignal('supervisor-gone'));
    }
  });
}

function installCrashHandlers(log: Logger): void {
  const crash = (kind: string) => (error: unknown) => {
    log.fatal({ err: error }, `crashed: ${kind}: ${describeError(error)}`);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));
}
