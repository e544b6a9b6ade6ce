import { parseArgs } from 'node:util';
import { integer } from '../core/config-schema.ts';
import { ConfigError, WeftError } from '../core/errors.ts';
import { hexId } from '../core/ids.ts';
import { KvClient } from '../client/kv-client.ts';
import { kvEndpoints } from './kv-endpoints.ts';
import type { Output } from './kv-command.ts';

export const memberHelp = `weft member: the membership of the replicated KV group, through its etcd v3 API.

Usage:
  weft member list                              the members: id, name, peer and client addresses, learner
  weft member add <id> <host:port> [--learner]  add a member (as a learner first is safest: it catches up
                                                without slowing commits); then start it with
                                                --cluster-state existing
  weft member promote <id>                      make a caught-up learner a voter
  weft member remove <id>                       remove a member (by node id or hex member id)

Flags:
  --endpoints <host:port,...>   gRPC endpoints (env WEFT_ENDPOINTS; default: read <data-dir>/cluster.json)
  --data-dir <dir>              where \`weft up\` wrote cluster.json (default .weft)
  --timeout-ms <ms>             bound for the command (default 10000)`;

export async function runMember(
  argv: readonly string[],
  env: Record<string, string>,
  out: Output = process.stdout,
): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help === true) {
    out.write(`${memberHelp}\n`);
    return 0;
  }
  const [command = '', ...args] = positionals;
  const endpoints = await kvEndpoints(values, env);
  const timeoutMs =
    values['timeout-ms'] === undefined ? 10_000 : integer(1, 3_600_000, ' ms')(values['timeout-ms'], 'timeout-ms');
  const client = new KvClient({ endpoints, timeoutMs });
  try {
    switch (command) {
      case 'list':
        expectArgs(command, args, 0);
        return await printMembers(client, out);
      case 'add': {
        expectArgs(command, args, 2);
        const [name = '', address = ''] = args;
        const reply = await client.memberAdd(`http://${address.replace(/^https?:\/\//, '')}`, {
          name,
          learner: values.learner === true,
        });
        out.write(
          `Member ${hexId(reply.response.member.id)} (${name}) added${values.learner === true ? ' as a learner' : ''}.\n`,
        );
        out.write(
          `Start it with: weft node --id ${name} --cluster-state existing --peers ${peerList(reply.response.members)}\n`,
        );
        return 0;
      }
      case 'promote':
      case 'remove': {
        expectArgs(command, args, 1);
        const id = await memberIdOf(client, args[0] ?? '');
        if (command === 'promote') await client.memberPromote(id);
        else await client.memberRemove(id);
        out.write(`Member ${hexId(id)} ${command === 'promote' ? 'promoted' : 'removed'}.\n`);
        return 0;
      }
      default:
        throw new ConfigError('command', `"${command}" is not list, add, promote or remove; run weft member --help`);
    }
  } finally {
    client.close();
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        endpoints: { type: 'string' },
        'data-dir': { type: 'string' },
        'timeout-ms': { type: 'string' },
        learner: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft member --help`);
  }
}

function expectArgs(command: string, args: readonly string[], count: number): void {
  if (args.length !== count) {
    throw new ConfigError(
      'arguments',
      `weft member ${command} takes ${count} argument${count === 1 ? '' : 's'}; run weft member --help`,
    );
  }
}

async function printMembers(client: KvClient, out: Output): Promise<number> {
  const { response } = await client.memberList();
  const rows = [['ID', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'LEARNER']];
  for (const m of response)
    rows.push([hexId(m.id), m.name, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner)]);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  for (const row of rows)
    out.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}

/** A member given by node id or by hex member id. */
async function memberIdOf(client: KvClient, given: string): Promise<bigint> {
  const { response } = await client.memberList();
  const byName = response.find((m) => m.name === given);
  if (byName !== undefined) return byName.id;
  const byHex = response.find((m) => hexId(m.id) === given.toLowerCase());
  if (byHex !== undefined) return byHex.id;
  throw new WeftError('MEMBER_NOT_FOUND', `no member named or with id ${given}; run weft member list`);
}

function peerList(members: readonly { name: string; peerUrls: readonly string[] }[]): string {
  return members
    .filter((m) => m.peerUrls[0] !== undefined)
    .map((m) => `${m.name}=${(m.peerUrls[0] ?? '').replace(/^https?:\/\//, '')}`)
    .join(',');
}
