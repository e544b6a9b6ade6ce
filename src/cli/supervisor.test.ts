import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { childEnv } from './supervisor.ts';

describe('the environment of supervised nodes', () => {
  it("drops weft's own variables and puts glibc's malloc on huge pages", () => {
    const env = childEnv({ PATH: '/usr/bin', WEFT_ENDPOINTS: '127.0.0.1:1', WEFT_DATA_DIR: '/x', HOME: undefined });
    assert.deepEqual(env, { PATH: '/usr/bin', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  });

  it("keeps the user's own GLIBC_TUNABLES, including an empty one", () => {
    assert.equal(childEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES, 'glibc.malloc.hugetlb=0');
    assert.equal(childEnv({ GLIBC_TUNABLES: '' }).GLIBC_TUNABLES, '');
  });
});
