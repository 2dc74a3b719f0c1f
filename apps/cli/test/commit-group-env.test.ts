import { DEFAULT_COMMIT_GROUP } from '@bdv-cluster/bdv';
import { describe, expect, it } from 'vitest';
import { commitGroupFromEnv } from '../src/convert/commit-group-env.js';

describe('BDV_COMMIT_GROUP_MIB', () => {
  it('defaults to 256 MiB / 2 s, takes a size in MiB, and 0 for a commit per view', () => {
    expect(commitGroupFromEnv({})).toEqual(DEFAULT_COMMIT_GROUP);
    expect(commitGroupFromEnv({ BDV_COMMIT_GROUP_MIB: ' ' })).toEqual(DEFAULT_COMMIT_GROUP);
    expect(commitGroupFromEnv({ BDV_COMMIT_GROUP_MIB: '64' })).toEqual({ bytes: 64 * 2 ** 20, seconds: 2 });
    expect(commitGroupFromEnv({ BDV_COMMIT_GROUP_MIB: '0' })).toEqual({ bytes: 0, seconds: 0 });
  });

  it.each(['-1', '1.5', '1e3', 'lots', '65537', '99999999999999999999'])(
    'refuses %s, naming the variable',
    (value) => {
      expect(() => commitGroupFromEnv({ BDV_COMMIT_GROUP_MIB: value })).toThrow(
        `BDV_COMMIT_GROUP_MIB: expected an integer from 0 to 65536 (MiB); got "${value}"`,
      );
    },
  );
});
