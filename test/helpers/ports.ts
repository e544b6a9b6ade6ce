import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** True when nothing listens on 127.0.0.1:port right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The lowest port the kernel hands out to outgoing connections: ports drawn
 * at or above it can be taken by some connection's local end between the
 * check and the bind (a 16-node test lost its HTTP port that way).
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768; // not Linux: the IANA range starts at 49152, Linux's default at 32768
  }
}

/**
 * Ports this process has handed out. Until a node binds them they look free,
 * so a second range drawn right after the first could overlap it (a 16-node
 * test got an HTTP port that was another node's peer port).
 */
const handedOut = new Set<number>();

/**
 * A base port such that base+1 .. base+count are all free now, below the
 * ephemeral range, and handed out by no earlier call in this process. Tests
 * run in parallel, so each draws from a random place.
 */
export async function freePortRange(count: number): Promise<number> {
  const [low, high] = [10_000, Math.max(10_000 + 1_000, ephemeralLow() - count - 1)];
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = low + Math.floor(Math.random() * (high - low));
    const ports = Array.from({ length: count }, (_, i) => base + i + 1);
    if (ports.some((port) => handedOut.has(port))) continue;
    // Reserved before the check awaits, so that concurrent calls cannot take the same ports.
    ports.forEach((port) => handedOut.add(port));
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return base;
    ports.forEach((port) => handedOut.delete(port));
  }
  throw new Error(`no free range of ${count} ports found`);
}

/** One free port. */
export async function freePort(): Promise<number> {
  return (await freePortRange(1)) + 1;
}
