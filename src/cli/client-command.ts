import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.ts';
import { PeerCallClient } from '../transport/grpc-client.ts';
import { ClientSession, clientCommands, clientHelp } from './client-session.ts';

export const clientHelpText = [
  'weft client: the DHT client (put, get, delete, lookup, getrt) against one node.',
  '',
  'Usage: weft client [--addr host:peer-port] [--timeout-ms ms] [command ...]',
  "  --addr <host:port>   a node's peer port (default 127.0.0.1:4001)",
  '  --timeout-ms <ms>    how long one call may take (default 5000)',
  'With a command, runs it and exits (status 1 if it failed); without, starts a prompt',
  'with history (~/.weft_client_history) and tab completion.',
  '',
  clientHelp,
].join('\n');

const historyFile = join(homedir(), '.weft_client_history');
const historyLines = 500;

export async function runClient(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseClientArgs(argv);
  if (values.help === true) {
    console.log(clientHelpText);
    return 0;
  }
  const address = values.addr ?? '127.0.0.1:4001';
  if (!/^.+:\d+$/.test(address)) throw new ConfigError('addr', `${address} is not host:port`);
  const timeoutMs = Number(values['timeout-ms'] ?? '5000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ConfigError('timeout-ms', 'give a whole number of ms');
  const session = new ClientSession(
    (a) => new PeerCallClient(a),
    address,
    timeoutMs,
    (line) => console.log(line),
  );
  try {
    if (positionals.length > 0) return (await session.run(positionals.join(' '))) === false ? 1 : 0;
    await repl(session);
    return 0;
  } finally {
    session.close();
  }
}

function parseClientArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: { addr: { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (error) {
    throw new ConfigError('arguments', `${(error as Error).message}; run weft client --help`);
  }
}

async function repl(session: ClientSession): Promise<void> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: interactive,
    history: interactive ? readHistory() : [],
    historySize: historyLines,
    completer: (line: string) => {
      const hits = clientCommands.filter((c) => c.startsWith(line.trim()));
      return [hits.length > 0 ? hits : [...clientCommands], line.trim()];
    },
  });
  // Commands piped in (a script) get answers only; a terminal gets a prompt.
  const prompt = (): void => {
    if (!interactive) return;
    rl.setPrompt(`weft[${session.address}]> `);
    rl.prompt();
  };
  prompt();
  for await (const line of rl) {
    if (interactive && line.trim() !== '') appendFileSync(historyFile, `${line}\n`);
    const outcome = await session.run(line);
    if (outcome === 'exit') break;
    prompt();
  }
  rl.close();
}

/** Newest first, as readline wants it. */
function readHistory(): string[] {
  try {
    return readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).slice(-historyLines).reverse();
  } catch {
    return [];
  }
}
