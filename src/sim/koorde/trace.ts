import { findSuccessorStep } from '../../koorde/find-successor.ts';
import { idToHex, type Id, type IdSpace } from '../../koorde/id-space.ts';
import { LookupRun } from '../../koorde/lookup-run.ts';
import type { NodeRef, RoutingTable } from '../../koorde/routing-table.ts';

/**
 * Run one lookup over routing tables in memory, with no network, and
 * describe every step as a line of text: what the golden tests compare.
 * Nodes in `down` do not answer.
 */
export function traceLookup(
  space: IdSpace,
  tables: ReadonlyMap<Id, RoutingTable>,
  origin: Id,
  key: Id,
  down: ReadonlySet<Id> = new Set(),
): { lines: string[]; run: LookupRun } {
  const hex = (id: Id): string => idToHex(space, id);
  const names = (nodes: readonly NodeRef[]): string => nodes.map((n) => hex(n.id)).join(',');
  const lines: string[] = [];
  const start = tables.get(origin);
  if (start === undefined) throw new Error(`no table for origin ${hex(origin)}`);
  const run = new LookupRun(key, start.self);
  const describe = (at: Id, reply: ReturnType<typeof findSuccessorStep>): string => {
    if (reply.kind === 'owner') return `${hex(at)}: owner ${names(reply.owners.slice(0, 2))}`;
    const walk = reply.walk;
    const where =
      walk === undefined ? 'no start' : `i=${hex(walk.imaginary)} left=${walk.stepsLeft} local=${reply.localSteps}`;
    return `${hex(at)}: ${where} -> ${names(reply.candidates)}`;
  };
  const first = findSuccessorStep(start, { key });
  lines.push(describe(origin, first));
  run.accept(first, false);
  for (let action = run.next(); action.kind === 'ask'; action = run.next()) {
    const table = tables.get(action.to.id);
    if (table === undefined || down.has(action.to.id)) {
      lines.push(`${hex(action.to.id)}: no answer`);
      run.fail();
      continue;
    }
    const reply = findSuccessorStep(table, action.request);
    lines.push(describe(action.to.id, reply));
    run.accept(reply);
  }
  return { lines, run };
}
