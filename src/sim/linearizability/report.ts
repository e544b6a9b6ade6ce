import { assert } from '../../core/assert.ts';
import { isCompleted, operationAt, type CompletedOperation, type Operation } from './history.ts';
import type { Model, Partition } from './model.ts';

/** How many operations of the longest prefix a report lists; earlier ones are counted, not shown. */
const PREFIX_LINES_MAX = 8;

export interface ViolationDetails<I, O> {
  readonly longestPrefix: readonly Operation<I, O>[];
  readonly involved: readonly Operation<I, O>[];
  readonly explanation: string;
}

/**
 * Explains a failed search at the point where it got furthest: the longest
 * legal prefix it built, the state that prefix leaves, and why none of the
 * operations that could come next (those invoked before the earliest
 * unplaced return) can. That return is the deadline: its operation must have
 * taken effect by then, and every way of getting there failed.
 */
export function explainViolation<S, I, O>(
  model: Model<S, I, O>,
  partition: Partition<I, O>,
  outcome: { readonly longest: readonly number[]; readonly stateAfterLongest: S },
): ViolationDetails<I, O> {
  const { operations } = partition;
  const longestPrefix = outcome.longest.map((index) => operationAt(operations, index));
  const state = outcome.stateAfterLongest;
  const placed = new Set(outcome.longest);
  const stuck = stuckAt(
    model,
    state,
    operations.filter((_, index) => !placed.has(index)),
  );
  const windowStart = Math.min(...stuck.candidates.filter(isCompleted).map((operation) => operation.call));
  const involved = [...prefixTail(model, longestPrefix, windowStart), ...stuck.candidates];
  const clientCount = new Set(operations.map((operation) => operation.clientId)).size;
  const explanation = [
    `not linearizable: ${partition.label} (${operations.length} operations, ${clientCount} clients)`,
    `longest legal prefix (${longestPrefix.length} operations), after which ${model.describeState(state)}:`,
    ...prefixLines(model, longestPrefix),
    `#${stuck.due.id} must take effect by t=${stuck.due.return} (its return), but no operation invoked by then can come next:`,
    ...stuck.candidates.map(
      (operation) => `  ${formatOperation(model, operation)}: ${candidateVerdict(model, state, operation)}`,
    ),
    ...(stuck.inertCount > 0
      ? [`  (and ${stuck.inertCount} unknown-outcome operations that would change nothing)`]
      : []),
    'timeline of the operations involved ([call, return], ? = no response):',
    ...timeline(model, involved),
  ].join('\n');
  return { longestPrefix, involved, explanation };
}

interface StuckPoint<I, O> {
  /** The unplaced completed operation that returns first. */
  readonly due: CompletedOperation<I, O>;
  /** The operations invoked by then, except unknown-outcome ones that could not change the state. */
  readonly candidates: readonly Operation<I, O>[];
  readonly inertCount: number;
}

function stuckAt<S, I, O>(model: Model<S, I, O>, state: S, rest: readonly Operation<I, O>[]): StuckPoint<I, O> {
  const due = rest
    .filter(isCompleted)
    .reduce<CompletedOperation<I, O> | undefined>(
      (first, operation) => (first === undefined || operation.return < first.return ? operation : first),
      undefined,
    );
  assert(due !== undefined, 'a failed search leaves a completed operation unplaced');
  const invoked = rest.filter((operation) => operation.call <= due.return).sort((a, b) => a.call - b.call);
  const candidates = invoked.filter((operation) => isCompleted(operation) || changesState(model, state, operation));
  return { due, candidates, inertCount: invoked.length - candidates.length };
}

function changesState<S, I, O>(model: Model<S, I, O>, state: S, operation: Operation<I, O>): boolean {
  const result = model.step(state, operation.input, operation.output);
  return result.ok && model.hash(result.next) !== model.hash(state);
}

/**
 * The end of the prefix that matters to the failure: from the operation that
 * set the final state, or from the first completed one that returned inside
 * the failure window, whichever comes first.
 */
function prefixTail<S, I, O>(
  model: Model<S, I, O>,
  prefix: readonly Operation<I, O>[],
  windowStart: number,
): Operation<I, O>[] {
  const concurrent = prefix.findIndex((operation) => isCompleted(operation) && operation.return >= windowStart);
  return prefix.slice(Math.min(concurrent === -1 ? prefix.length : concurrent, lastStateChange(model, prefix)));
}

/** The position of the last operation of a legal prefix that changed the state; the prefix length if none did. */
function lastStateChange<S, I, O>(model: Model<S, I, O>, prefix: readonly Operation<I, O>[]): number {
  let state = model.init();
  let last = prefix.length;
  for (const [position, operation] of prefix.entries()) {
    const result = model.step(state, operation.input, operation.output);
    assert(result.ok, `the longest prefix is legal at operation ${operation.id}`);
    if (model.hash(result.next) !== model.hash(state)) last = position;
    state = result.next;
  }
  return last;
}

function prefixLines<S, I, O>(model: Model<S, I, O>, prefix: readonly Operation<I, O>[]): string[] {
  const shownFrom = Math.max(prefix.length - PREFIX_LINES_MAX, 0);
  const lines = prefix.slice(shownFrom).map((op, i) => `  ${shownFrom + i + 1}. ${formatOperation(model, op)}`);
  return shownFrom > 0 ? [`  (${shownFrom} earlier operations)`, ...lines] : lines;
}

function candidateVerdict<S, I, O>(model: Model<S, I, O>, state: S, operation: Operation<I, O>): string {
  const result = model.step(state, operation.input, operation.output);
  return result.ok ? 'legal, but no order of the remaining operations works after it' : 'illegal in that state';
}

function timeline<S, I, O>(model: Model<S, I, O>, involved: readonly Operation<I, O>[]): string[] {
  const clients = [...new Set(involved.map((operation) => operation.clientId))].sort((a, b) => a - b);
  return clients.map((client) => {
    const own = involved.filter((operation) => operation.clientId === client).sort((a, b) => a.call - b.call);
    return `  client ${client}: ${own.map((operation) => formatOperation(model, operation, false)).join('  ·  ')}`;
  });
}

function formatOperation<S, I, O>(model: Model<S, I, O>, operation: Operation<I, O>, withClient = true): string {
  const client = withClient ? ` client ${operation.clientId}` : '';
  const interval = `[${operation.call}, ${operation.return ?? '?'}]`;
  return `#${operation.id}${client} ${interval} ${model.describeOperation(operation.input, operation.output)}`;
}
