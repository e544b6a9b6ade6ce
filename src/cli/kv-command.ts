import { parseArgs } from 'node:util';
import { integer, oneOf } from '../core/config-schema.ts';
import { ConfigError } from '../core/errors.ts';
import { KvClient } from '../client/kv-client.ts';
import { kvEndpoints } from './kv-endpoints.ts';

export const kvHelp = `weft kv: read and write the replicated KV store through its etcd v3 API (like etcdctl).

Usage:
  weft kv put <key> [<value>]   store a value (read from stdin when not given); prints OK
  weft kv get <key> [--prefix] [--rev N] [--limit N] [--consistency l|s] [--print-value-only]
                                print each key and its value on their own lines
  weft kv del <key> [--prefix]  delete; prints how many keys went

Flags:
  --endpoints <host:port,...>   gRPC endpoints (env WEFT_ENDPOINTS; default: read <data-dir>/cluster.json)
  --data-dir <dir>              where \`weft up\` wrote cluster.json (env WEFT_DATA_DIR; default .weft)
  --timeout-ms <ms>             bound for each command, retries included (default 5000)
  --prefix                      every key that starts with <key>
  --rev <N>                     read as of revision N (default: the newest)
  --limit <N>                   at most N keys (default: no limit)
  --consistency l|s             linearizable (default) or serializable reads
  --print-value-only            print values only`;

const options = {
  endpoints: { type: 'string' },
  'data-dir': { type: 'string' },
  'timeout-ms': { type: 'string' },
  prefix: { type: 'boolean' },
  rev: { type: 'string' },
  limit: { type: 'string' },
  consistency: { type: 'string' },
  'print-value-only': { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** Flags that only some sub-commands take. */
const flagsOf: Record<string, readonly string[]> = {
  put: [],
  get: ['prefix', 'rev', 'limit', 'consistency', 'print-value-only'],
  del: ['prefix'],
};

export type Output = Pick<NodeJS.WriteStream, 'write'>;

/** `weft kv put|get|del`. Exit status 0 on success; failures are thrown (main prints them: 1, or 2 for usage). */
export async function runKv(
  argv: readonly string[],
  env: Record<string, string>,
  out: Output = process.stdout,
): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help === true) {
    out.write(`${kvHelp}\n`);
    return 0;
  }
  const [command = '', key, value, ...extra] = positionals;
  checkUsage(command, values, key, command === 'put' ? extra : [value, ...extra]);
  const endpoints = await kvEndpoints(values, env);
  const timeoutMs =
    values['timeout-ms'] === undefined ? 5000 : integer(1, 3_600_000, ' ms')(values['timeout-ms'], 'timeout-ms');
  const client = new KvClient({ endpoints, timeoutMs });
  try {
    if (command === 'put') {
      await client.put(key!, value ?? (await readStdin()));
      out.write('OK\n');
    } else if (command === 'get') {
      await get(client, key!, values, out);
    } else {
      const deleted = await client.delete(key!, { prefix: values.prefix === true });
      out.write(`${deleted.response.deleted}\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft kv --help`);
  }
}

function checkUsage(
  command: string,
  values: Values,
  key: string | undefined,
  extra: readonly (string | undefined)[],
): void {
  const allowed = flagsOf[command];
  if (allowed === undefined)
    throw new ConfigError('command', `"${command}" is not put, get or del; run weft kv --help`);
  if (key === undefined) throw new ConfigError('key', `weft kv ${command} needs a key`);
  const stray = extra.find((argument) => argument !== undefined);
  if (stray !== undefined) throw new ConfigError(stray, `unexpected argument to weft kv ${command}`);
  for (const flag of Object.keys(values)) {
    const general = ['endpoints', 'data-dir', 'timeout-ms', 'help'].includes(flag);
    if (!general && !allowed.includes(flag)) throw new ConfigError(flag, `weft kv ${command} does not take --${flag}`);
  }
}

async function get(client: KvClient, key: string, values: Values, out: Output): Promise<void> {
  const level = oneOf(['l', 's', 'linearizable', 'serializable'])(values.consistency ?? 'l', 'consistency');
  const reply = await client.get(key, {
    prefix: values.prefix === true,
    consistency: level.startsWith('s') ? 'serializable' : 'linearizable',
    ...(values.rev !== undefined && { revision: integer(1, Number.MAX_SAFE_INTEGER)(values.rev, 'rev') }),
    ...(values.limit !== undefined && { limit: integer(1, Number.MAX_SAFE_INTEGER)(values.limit, 'limit') }),
  });
  for (const kv of reply.response.kvs) {
    // Bytes go out as they are: keys and values need not be text.
    if (values['print-value-only'] !== true) out.write(Buffer.concat([kv.key, Buffer.from('\n')]));
    out.write(Buffer.concat([kv.value, Buffer.from('\n')]));
  }
}

async function readStdin(): Promise<Uint8Array> {
  if (process.stdin.isTTY === true)
    throw new ConfigError('value', 'weft kv put needs a value, as an argument or on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
