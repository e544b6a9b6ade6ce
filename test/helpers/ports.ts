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
 * A base port such that base+1 .. base+count are all free now. Tests run in
 * parallel, so each draws from a random place in a wide range.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 35_000);
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => isPortFree(base + i + 1)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error(`no free range of ${count} ports found`);
}

/** One free port. */
export async function freePort(): Promise<number> {
  return (await freePortRange(1)) + 1;
}
