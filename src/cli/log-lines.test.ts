import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatLogLine } from './log-lines.ts';

describe('weft up log lines', () => {
  it('turns a JSON log record into one prefixed human line', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-11-22T10:11:12.345Z',
      pid: 1,
      hostname: 'h',
      node: 'n2',
      msg: 'peer unreachable',
      peer: 'n3',
      detail: { code: 14 },
    });
    assert.equal(formatLogLine('n2', line), 'n2  | 10:11:12.345 WARN  peer unreachable peer=n3 detail={"code":14}');
  });

  it('passes other lines through with the prefix', () => {
    assert.equal(formatLogLine('n1', 'weft node: error: x'), 'n1  | weft node: error: x');
    assert.equal(formatLogLine('n1', '42'), 'n1  | 42');
  });
});
