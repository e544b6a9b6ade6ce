import { describeError, isWeftError } from '../core/errors.ts';
import { dhtClientMethods } from '../api/dht-client-service.ts';
import type { GetAnswer, LookupAnswer, PutAnswer, DeleteAnswer } from '../api/dht-client-api.ts';
import type { MemberView, RoutingTableView } from '../node/dht/dht.ts';

/** What the session needs of a connection to one node. */
export interface ClientConnection {
  readonly address: string;
  call(method: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): void;
}

export const clientCommands = ['put', 'get', 'delete', 'lookup', 'getrt', 'use', 'help', 'exit', 'quit'] as const;

export const clientHelp = [
  'Commands:',
  '  put <key> <value>   store a value (on the owner and its successors)',
  '  get <key>           read a value',
  '  delete <key>        delete a value',
  '  lookup <hex id>     the node that owns an id, and the hops taken',
  '  getrt               this node: self, predecessor, successors, de Bruijn window',
  '  use <host:port>     talk to another node (its peer port)',
  '  help                this text',
  '  exit                leave (also quit, Ctrl-D)',
].join('\n');

/**
 * The interactive client's commands, one line at a time. Every answer ends
 * with its latency: the wall time of the call as the client saw it.
 */
export class ClientSession {
  private connection: ClientConnection;

  constructor(
    private readonly connect: (address: string) => ClientConnection,
    address: string,
    private readonly timeoutMs: number,
    private readonly print: (line: string) => void,
  ) {
    this.connection = connect(address);
  }

  get address(): string {
    return this.connection.address;
  }

  close(): void {
    this.connection.close();
  }

  /** Run one command line. Resolves false when the command failed, 'exit' to leave. */
  async run(line: string): Promise<boolean | 'exit'> {
    const [command = '', ...args] = line.trim().split(/\s+/);
    if (command === '') return true;
    switch (command) {
      case 'put':
        if (args.length < 2) return this.usage('put <key> <value>');
        return this.timed(
          'Put',
          { key: args[0], value: line.trim().split(/\s+/).slice(2).join(' ') },
          dhtClientMethods.put,
        );
      case 'get':
        if (args.length !== 1) return this.usage('get <key>');
        return this.timed('Get', { key: args[0] }, dhtClientMethods.get);
      case 'delete':
        if (args.length !== 1) return this.usage('delete <key>');
        return this.timed('Delete', { key: args[0] }, dhtClientMethods.delete);
      case 'lookup':
        if (args.length !== 1) return this.usage('lookup <hex id>');
        return this.timed('Lookup', { id: args[0] }, dhtClientMethods.lookup);
      case 'getrt':
        return this.timed('Routing table', {}, dhtClientMethods.routingTable);
      case 'use':
        if (args.length !== 1 || !/^.+:\d+$/.test(args[0] ?? '')) return this.usage('use <host:port>');
        this.connection.close();
        this.connection = this.connect(args[0] ?? '');
        this.print(`Now talking to ${this.connection.address}`);
        return true;
      case 'help':
        this.print(clientHelp);
        return true;
      case 'exit':
      case 'quit':
        return 'exit';
      default:
        this.print(`Unknown command "${command}"; type help for the list`);
        return false;
    }
  }

  private usage(text: string): false {
    this.print(`Usage: ${text}`);
    return false;
  }

  private async timed(what: string, request: object, method: string): Promise<boolean> {
    const started = performance.now();
    const latency = (): string => `latency=${(performance.now() - started).toFixed(2)}ms`;
    try {
      const payload = new TextEncoder().encode(JSON.stringify(request));
      const answer: unknown = JSON.parse(
        new TextDecoder().decode(await this.connection.call(method, payload, this.timeoutMs)),
      );
      this.print(`${describe(what, answer)} | ${latency()}`);
      return true;
    } catch (error) {
      const code = isWeftError(error) ? `${error.code}: ` : '';
      this.print(`${what} failed: ${code}${describeError(error)} | ${latency()}`);
      return false;
    }
  }
}

const node = (m: MemberView | undefined): string => (m === undefined ? '(none)' : `${m.id} (${m.address})`);

function describe(what: string, answer: unknown): string {
  if (what === 'Put') {
    const a = answer as PutAnswer;
    return `Put succeeded (key=${a.key}) owner=${node(a.owner)} replicas=${a.replicas} hops=${a.hops}`;
  }
  if (what === 'Get') {
    const a = answer as GetAnswer;
    return `Get succeeded (key=${a.key}, value=${a.value}) owner=${node(a.owner)} hops=${a.hops}`;
  }
  if (what === 'Delete') {
    const a = answer as DeleteAnswer;
    return `Delete succeeded (key=${a.key}) owner=${node(a.owner)}`;
  }
  if (what === 'Lookup') {
    const a = answer as LookupAnswer;
    return `Lookup result: successor=${node(a.owner)} hops=${a.hops} retries=${a.retries}`;
  }
  const t = answer as RoutingTableView;
  return [
    `Routing table:${t.joined ? '' : ' (not joined yet)'}`,
    `  Self:        ${node(t.self)}`,
    `  Predecessor: ${node(t.predecessor)}`,
    '  Successors:',
    ...t.successors.map((m, i) => `    [${i}] ${node(m)}`),
    '  De Bruijn window:',
    ...t.window.map((m, i) => `    [${i}] ${node(m)}`),
    `  Items held:  ${t.items}`,
  ].join('\n');
}
