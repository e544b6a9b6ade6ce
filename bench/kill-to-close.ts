// How long after a SIGKILL a peer sees the dead process's TCP connection
// close: the earliest "connection lost" hint S-Raft can get. A child process
// fills its memory to a given size, connects to this one, and is killed.
//   node --import tsx bench/kill-to-close.ts [--sizes 20,400] [--rounds 2] [--buffers] [--busy N]
// --sizes: blocks of about 0.8 MB the child holds. Without --buffers, small
// objects on V8's heap; with it, 16 KiB ArrayBuffers, which glibc's malloc
// holds (a node's Raft entries and MVCC values are such buffers). Each size runs with
// 4 KiB pages and with glibc's malloc on transparent huge pages (the
// GLIBC_TUNABLES that `weft up` gives its nodes, src/cli/supervisor.ts).
// --busy: N more processes spin the CPU the whole time, as a loaded machine's
// other processes would: the kernel tears the killed process down on its own
// time slice, so it competes with them.
// Prints, per size: the child's RSS (and how much of it is huge pages), when
// its socket closed, when its exit was seen.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '20,400' },
    rounds: { type: 'string', default: '2' },
    buffers: { type: 'boolean', default: false },
    busy: { type: 'string', default: '0' },
  },
});
const sizes = values.sizes.split(',').map(Number);

const server = net.createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;
// Each spins until this process goes (its stdin closes), bounded at ten minutes.
const spinners = Array.from({ length: Number(values.busy) }, () =>
  spawn(
    process.execPath,
    [
      '-e',
      'const end = Date.now() + 600_000; process.stdin.on("close", () => process.exit(0)); const spin = () => { const t = Date.now() + 50; while (Date.now() < t); if (Date.now() < end) setImmediate(spin); else process.exit(0); }; spin();',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  ),
);

/** A script that holds `blocks` blocks, connects, and says `ready`. */
function childScript(blocks: number): string {
  const fill = values.buffers
    ? // 50 buffers of 16 KiB a block, each written so that its pages are resident.
      `for (let i = 0; i < ${blocks} * 50; i++) keep.push(new Uint8Array(16384).fill(1));`
    : // 8,000 small objects a block.
      `for (let i = 0; i < ${blocks}; i++) { const a = []; for (let j = 0; j < 8000; j++) a.push({ i, j, s: 'x' + j }); keep.push(a); }`;
  return `
    const keep = [];
    ${fill}
    require('node:net').connect(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));
    setInterval(() => keep.length, 1000);`;
}

function residentMb(pid: number): { rss: number; huge: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? 0);
  return { rss: Math.round(kb('Rss') / 1024), huge: Math.round(kb('AnonHugePages') / 1024) };
}

for (let round = 0; round < Number(values.rounds); round += 1) {
  for (const blocks of sizes) {
    for (const hugePages of [false, true]) {
      const env = { ...process.env };
      if (hugePages) env.GLIBC_TUNABLES = 'glibc.malloc.hugetlb=1';
      else delete env.GLIBC_TUNABLES;
      const child = spawn(process.execPath, ['-e', childScript(blocks)], { stdio: ['ignore', 'pipe', 'inherit'], env });
      const socket = await new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      socket.resume();
      const { rss, huge } = residentMb(child.pid!);
      const started = performance.now();
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
      const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now() - started)));
      child.kill('SIGKILL');
      const [closeMs, exitMs] = [await closed, await exited];
      const pages = hugePages ? 'huge-page malloc' : '4 KiB pages     ';
      console.log(
        `${pages} RSS ${rss} MB (${huge} MB huge): socket closed ${closeMs.toFixed(1)} ms after SIGKILL, exit seen ${exitMs.toFixed(1)} ms`,
      );
    }
  }
}
for (const spinner of spinners) spinner.kill();
server.close();
