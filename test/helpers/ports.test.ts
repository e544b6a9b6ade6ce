import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePortRange } from './ports.ts';

describe('freePortRange', () => {
  it('never hands out a port twice in one process', async () => {
    // One range after another, as a test draws its peer and HTTP ports: the first is not bound yet when the
    // second is drawn. 100 ranges of 16 from about 20,000 ports would overlap somewhere (several pairs, expected).
    const ports: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const base = await freePortRange(16);
      ports.push(...Array.from({ length: 16 }, (_, j) => base + j + 1));
    }
    assert.equal(new Set(ports).size, ports.length);
  });
});
