import { sleep } from './weft-process.ts';

interface Member {
  readonly id: string;
  readonly address: string;
}
interface Table {
  readonly joined: boolean;
  readonly self: Member;
  readonly predecessor?: Member;
  readonly successors: readonly Member[];
}

/**
 * Poll /v1/dht/routing-table of every node until each one has joined and
 * its successor and predecessor are its neighbours on the true ring of
 * these nodes. /ready only says a node joined: until stabilization has run,
 * two nodes can both believe they own a key.
 */
export async function waitRingConverged(urls: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const tables = await Promise.all(
      urls.map(async (url) => {
        const response = await fetch(`${url}/v1/dht/routing-table`, { signal: AbortSignal.timeout(5_000) });
        return (await response.json()) as Table;
      }),
    );
    // Ids are hex of one width, so string order is ring order.
    const ring = tables.map((t) => t.self.id).sort();
    const wrong = tables.filter((t) => {
      const at = ring.indexOf(t.self.id);
      const next = ring[(at + 1) % ring.length];
      const previous = ring[(at + ring.length - 1) % ring.length];
      return !t.joined || t.successors[0]?.id !== next || t.predecessor?.id !== previous;
    });
    if (wrong.length === 0) return;
    last = wrong
      .map((t) => `${t.self.address}: ${t.predecessor?.address ?? 'none'} <- -> ${t.successors[0]?.address ?? 'none'}`)
      .join('; ');
    await sleep(100);
  }
  throw new Error(`the ring did not converge in ${timeoutMs} ms: ${last}`);
}
