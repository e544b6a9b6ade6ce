import { assert } from '../../core/assert.ts';
import { isCompleted, operationAt, type Operation } from './history.ts';
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
  const placed = new Set(outcome.longest);
  const rest = operations.filter((_, index) => !placed.has(index));
  const completedRest = rest.filter(isCompleted);
  const deadline = Math.min(...completedRest.map((operation) => operation.return));
  const due = completedRest.find((operation) => operation.return === deadline);
  assert(due !== undefined, 'a failed search leaves a completed operation unplaced');
  const candidates = rest.filter((operation) => operation.call <= deadline).sort((a, b) => a.call - b.call);
  const windowStart = Math.min(...candidates.map((operation) => operation.call));
  const involved = [...prefixTail(longestPrefix, windowStart), ...candidates];
  const state = outcome.stateAfterLongest;
  const clientCount = new Set(operations.map((operation) => operation.clientId)).size;
  const explanation = [
    `not linearizable: ${partition.label} (${operations.length} operations, ${clientCount} clients)`,
    `longest legal prefix (${longestPrefix.length} operations), after which ${model.describeState(state)}:`,
    ...prefixLines(model, longestPrefix),
    `#${due.id} must take effect by t=${deadline} (its return), but no operation invoked by then can come next:`,
    ...candidates.map(
      (operation) => `  ${formatOperation(model, operation)}: ${candidateVerdict(model, state, operation)}`,
    ),
    'timeline of the operations involved ([call, return], ? = no response):',
    ...timeline(model, involved),
  ].join('\n');
  return { longestPrefix, involved, explanation };
}

/** The end of the prefix from the first operation concurrent with the failure window, and at least its last one. */
function prefixTail<I, O>(prefix: readonly Operation<I, O>[], windowStart: number): Operation<I, O>[] {
  const concurrent = prefix.findIndex((operation) => (operation.return ?? Infinity) >= windowStart);
  const start = Math.min(concurrent === -1 ? prefix.length : concurrent, prefix.length - 1);
  return prefix.slice(Math.max(start, 0));
}

function prefixLines<S, I, O>(model: Model<S, I, O>, prefix: readonly Operation<I, O>[]): string[] {
  const shownFrom = Math.max(prefix.length - PREFIX_LINES_MAX, 0);
  const lines = prefix.slice(shownFrom).map((op, i) => `  ${shownFrom + i + 1}. ${formatOperation(model, op)}`);
  return shownFrom > 0 ? [`  (${shownFrom} earlier operations)`, ...lines] : lines;
}

function candidateVerdict<S, I, O>(model: Model<S, I, O>, state: S, operation: Operation<I, O>): string {
  const result = model.step(state, operation.input, operation.output);
  if (!result.ok) return 'illegal in that state';
  if (!isCompleted(operation) && model.hash(result.next) === model.hash(state)) {
    return 'no effect in that state (the same as never taking effect)';
  }
  return 'legal, but no order of the remaining operations works after it';
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
