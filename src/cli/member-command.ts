import { parseArgs } from 'node:util';
import { integer } from '../core/config-schema.ts';
import { ConfigError, WeftError } from '../core/errors.ts';
import { hexId, memberIdOf, nodeIdHint, nodeIdPattern } from '../core/ids.ts';
import { KvClient } from '../client/kv-client.ts';
import { peerAddressOf } from '../kv/wire/cluster-wire.ts';
import { kvEndpoints } from './kv-endpoints.ts';
import type { Output } from './kv-command.ts';

export const memberHelp = `weft member: the membership of the replicated KV group, through its etcd v3 API.

Usage:
  weft member list                              the members: id, started or not, name, peer and client
                                                addresses, learner (as etcdctl, a member that has not
                                                started yet has no name and no client address)
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
        const [name = '', given = ''] = args;
        if (!nodeIdPattern.test(name))
          throw new ConfigError('id', `${JSON.stringify(name)} is not a node id: ${nodeIdHint}`);
        const { host, port } = hostPort(peerAddressOf(given));
        const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
        const reply = await client.memberAdd(`http://${address}`, {
          name,
          learner: values.learner === true,
        });
        out.write(
          `Member ${hexId(reply.response.member.id)} (${name}) added${values.learner === true ? ' as a learner' : ''}.\n`,
        );
        const peers = peerList(reply.response.members, reply.response.member.id, name);
        out.write(
          `Start it with: weft node --id ${name} --host ${host} --peer-port ${port} --cluster-state existing --peers ${peers}\n` +
            `(with an --http-port of its own if another node on ${host} has the default, 8081)\n`,
        );
        return 0;
      }
      case 'promote':
      case 'remove': {
        expectArgs(command, args, 1);
        const id = await resolveMember(client, args[0] ?? '');
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
  const rows = [['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'LEARNER']];
  for (const m of response) {
    const status = m.started === false ? 'unstarted' : 'started';
    rows.push([hexId(m.id), status, m.name, m.peerUrls.join(','), m.clientUrls.join(','), String(m.isLearner)]);
  }
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

/** The host and port of a new member's peer address; a clear error for anything else. */
function hostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65_535) {
    throw new ConfigError('address', `${JSON.stringify(address)} is not host:port (for example 127.0.0.1:4004)`);
  }
  return { host: match[1] ?? '', port };
}

/** A member given by node id or by hex member id. */
async function resolveMember(client: KvClient, given: string): Promise<bigint> {
  const { response } = await client.memberList();
  // A member that has not started yet is listed without its name; its id is still the hash of the name.
  const byName = response.find((m) => m.name === given || m.id === memberIdOf(given));
  if (byName !== undefined) return byName.id;
  const byHex = response.find((m) => hexId(m.id) === given.toLowerCase());
  if (byHex !== undefined) return byHex.id;
  throw new WeftError('MEMBER_NOT_FOUND', `no member named or with id ${given}; run weft member list`);
}

/**
 * The --peers value for a new member: every member by name and peer address. The new member and any other
 * member not started yet are listed without a name; the new one's is known here, the others are left out
 * (the new member learns their addresses from the membership changes it replays).
 */
function peerList(
  members: readonly { id: bigint; name: string; peerUrls: readonly string[] }[],
  newId: bigint,
  newName: string,
): string {
  return members
    .map((m) => ({ name: m.id === newId ? newName : m.name, url: m.peerUrls[0] }))
    .filter((m) => m.url !== undefined && m.name !== '')
    .map((m) => `${m.name}=${peerAddressOf(m.url ?? '')}`)
    .join(',');
}
