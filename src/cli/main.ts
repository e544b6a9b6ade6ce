import { ConfigError, describeError } from '../core/errors.ts';
import { weftVersion } from '../node/version.ts';
import { environment } from './args.ts';
import { cacheHelp, runCache } from './cache-command.ts';
import { benchHelp, runBench } from './bench-command.ts';
import { clientHelpText, runClient } from './client-command.ts';
import { kvHelp, runKv } from './kv-command.ts';
import { memberHelp, runMember } from './member-command.ts';
import { loadNodeConfig, nodeHelp, runNode } from './node-command.ts';
import { repairHelp, runRepair } from './repair-command.ts';
import { runStatus, statusHelp } from './status-command.ts';
import { runUp, upHelp } from './up-command.ts';

const usage = `weft ${weftVersion}: a distributed key-value store, web cache and service platform.

Usage: weft <command> [flags]

Commands:
  up        start a local cluster of N nodes on loopback (npm start)
  node      run one node
  status    show the health of the nodes of a cluster
  repair    truncate a damaged WAL after its last good record (never automatic)
  client    the DHT client: put, get, delete, lookup, getrt (a prompt, or one command)
  cache     the web cache: get <url>, stats, purge <url>
  kv        put, get and del keys of the replicated KV store (its etcd v3 API)
  member    list, add, promote and remove members of the KV group
  bench     bench kv: throughput and latency of the KV store (or of an etcd)
  version   print the version

Run "weft <command> --help" for a command's flags.`;

type Command = (argv: readonly string[], env: Record<string, string>) => Promise<number>;

const commands: Record<string, { run: Command; help: string }> = {
  node: {
    help: nodeHelp,
    run: async (argv, env) => {
      const config = await loadNodeConfig(argv, env);
      if (config === 'help') {
        console.log(nodeHelp);
        return 0;
      }
      return runNode(config);
    },
  },
  up: { help: upHelp, run: runUp },
  status: { help: statusHelp, run: runStatus },
  repair: { help: repairHelp, run: runRepair },
  client: { help: clientHelpText, run: runClient },
  cache: { help: cacheHelp, run: runCache },
  kv: { help: kvHelp, run: runKv },
  member: { help: memberHelp, run: runMember },
  bench: { help: benchHelp, run: runBench },
};

/**
 * Entry point. Exit status: 0 success, 1 failure at run time, 2 unusable
 * command line or configuration (one line on stderr naming the field).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    console.log(weftVersion);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`weft: unknown command "${name}"; run "weft help" for the list`);
    return 2;
  }
  try {
    return await command.run(rest, environment(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`weft ${name}: error: ${error.message}`);
      return 2;
    }
    console.error(`weft ${name}: failed: ${describeError(error)}`);
    return 1;
  }
}
