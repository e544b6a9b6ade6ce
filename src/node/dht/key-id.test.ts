import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { createIdSpace } from '../../koorde/id-space.ts';
import { idOfBytes } from './key-id.ts';

describe('key and node ids (golden)', () => {
  it('are the top b bits of SHA-256', () => {
    // sha256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
    assert.equal(idOfBytes(createIdSpace(64, 8), 'hello'), 0x2cf24dba5fb0a30en);
    assert.equal(idOfBytes(createIdSpace(8, 2), 'hello'), 0x2cn);
    assert.equal(idOfBytes(createIdSpace(66, 8), 'hello'), 0x2cf24dba5fb0a30e26e83b2ac5b9e29en >> 62n);
  });
});
