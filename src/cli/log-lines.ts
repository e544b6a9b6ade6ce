/**
 * Turns one line of a node's JSON log into a short human line, prefixed with
 * the node id, for `weft up`'s combined output. Lines that are not JSON (a
 * stack trace, a crash message) pass through with the prefix.
 */
const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

const skipped = new Set(['level', 'time', 'pid', 'hostname', 'node', 'msg']);

export function formatLogLine(nodeId: string, line: string): string {
  const prefix = `${nodeId.padEnd(4)}|`;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object') return `${prefix} ${line}`;
    record = parsed as Record<string, unknown>;
  } catch {
    return `${prefix} ${line}`;
  }
  const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
  const level = levelNames[Number(record['level'])] ?? 'LOG  ';
  const fields = Object.entries(record)
    .filter(([key]) => !skipped.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${prefix} ${time} ${level} ${String(record['msg'] ?? '')}${fields === '' ? '' : ` ${fields}`}`;
}
