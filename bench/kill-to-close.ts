// How long after a SIGKILL a peer sees the dead process's TCP connection
// close: the earliest "connection lost" hint S-Raft can get. A child process
// fills its heap to a given size, connects to this one, and is killed.
//   node --import tsx bench/kill-to-close.ts [--sizes 20,400] [--rounds 2]
// Prints, per size: the child's RSS, when its socket closed, when its exit was seen.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '20,400' }, rounds: { type: 'string', default: '2' } },
});
const sizes = values.sizes.split(',').map(Number);

const server = net.createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as net.AddressInfo;

for (let round = 0; round < Number(values.rounds); round += 1) {
  for (const blocks of sizes) {
    // Each block is 8,000 small objects, about 0.8 MB of heap.
    const script = `
      const keep = [];
      for (let i = 0; i < ${blocks}; i++) { const a = []; for (let j = 0; j < 8000; j++) a.push({ i, j, s: 'x' + j }); keep.push(a); }
      require('node:net').connect(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));
      setInterval(() => keep.length, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const socket = await new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise((resolve) => child.stdout!.once('data', resolve));
    socket.resume();
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]);
    const started = performance.now();
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
    const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now() - started)));
    child.kill('SIGKILL');
    const [closeMs, exitMs] = [await closed, await exited];
    console.log(
      `RSS ${Math.round(rssKb / 1024)} MB: socket closed ${closeMs.toFixed(1)} ms after SIGKILL, exit seen ${exitMs.toFixed(1)} ms`,
    );
  }
}
server.close();
