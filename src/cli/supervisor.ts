import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from './log-lines.ts';

const weftBin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const rememberedLines = 20;

/**
 * Node flags of the children. The nodes of one supervisor share one
 * machine's cores, and V8's parallel garbage collector runs helper threads
 * in every process beside its main thread: on 2 cores with three nodes
 * under write load, with GC on each main thread instead, the cluster
 * committed 7-29% more writes per second, at lower CPU per write, in each of
 * six paired runs; later, after the cluster's CPU per write had come down,
 * paired runs no longer told the two apart (docs/results.md).
 * A young generation of 4 MB instead of 16: each scavenge copies the
 * writes' long-lived state (Raft entries, MVCC history) made since the last
 * one, so smaller ones pause for less (p50 2 ms against 7-8), and a write
 * that waits for one waits less; in two alternating pairs against etcd the
 * write p99 ratio of warm rounds was 0.90-1.03 against 0.97-1.13.
 * A node alone on its machine keeps V8's defaults.
 */
const nodeFlags = ['--single-threaded-gc', '--max-semi-space-size=4'];

/**
 * glibc's malloc on transparent huge pages (it asks with madvise, which a
 * kernel whose THP mode is `madvise` or `always` grants). A SIGKILLed
 * process's sockets close only after the kernel has freed its memory, and
 * that close is S-Raft's fastest news of a dead leader. Freed as 4 KiB pages, 200 MB of ArrayBuffers kept a
 * killed process's socket open 35-45 ms; as 2 MB pages, 9-12 ms
 * (bench/kill-to-close.ts --buffers). About half of what a node's history
 * adds is such buffers (Raft entries, MVCC values; LevelDB's blocks too);
 * V8's own heap is not malloc's and stays on 4 KiB pages. The cost: a heap
 * that grows may wait for the kernel to compact memory into a huge page.
 * Another C library ignores the variable; a GLIBC_TUNABLES of the user's
 * own, even an empty one, is kept as it is.
 */
const hugePageMalloc = 'glibc.malloc.hugetlb=1';

/** The children's environment: the supervisor's, without weft's own settings (a child takes flags), with huge-page malloc. */
export function childEnv(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (!key.startsWith('WEFT_') && value !== undefined) env[key] = value;
  }
  env.GLIBC_TUNABLES ??= hugePageMalloc;
  return env;
}

export interface ChildSpec {
  readonly id: string;
  readonly args: readonly string[];
  /** More flags for node and V8, after weft's own (benches: --trace-gc-nvp, --cpu-prof). */
  readonly nodeFlags?: readonly string[];
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines the child wrote to stderr, and its error and fatal log lines: usually why it died. */
  readonly lastErrorLines: readonly string[];
}

/**
 * One `weft node` child process. It runs in its own process group, so a
 * terminal's Ctrl-C reaches only the supervisor, which stops the children in
 * order; its IPC channel makes it stop by itself if the supervisor dies.
 */
export class SupervisedNode {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly errorLines: string[] = [];
  private exit: ExitInfo | undefined;

  constructor(
    readonly spec: ChildSpec,
    print: (line: string) => void,
  ) {
    const env = childEnv(process.env);
    this.child = spawn(process.execPath, [...nodeFlags, ...(spec.nodeFlags ?? []), weftBin, 'node', ...spec.args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env,
    });
    const remember = (line: string): void => {
      this.errorLines.push(line);
      if (this.errorLines.length > rememberedLines) this.errorLines.shift();
    };
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const formatted = formatLogLine(spec.id, line);
      // A node logs why it stops (an error or fatal line) on stdout, then exits.
      if (/"level":(50|60)\b/.test(line)) remember(formatted);
      print(formatted);
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      remember(line);
      print(formatLogLine(spec.id, line));
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        // Let readline deliver the last lines before reporting why it died.
        setImmediate(() => {
          this.exit = { code, signal, lastErrorLines: [...this.errorLines] };
          resolve(this.exit);
        });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }
}

export function describeExit(exit: ExitInfo): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with status ${String(exit.code)}`;
  const why = exit.lastErrorLines.at(-1);
  return why === undefined ? how : `${how}: ${why}`;
}
