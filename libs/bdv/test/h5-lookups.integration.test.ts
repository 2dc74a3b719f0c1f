import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { BdvH5File } from '../src/h5/bdv-h5-file.js';
import type { LevelSpec } from '../src/model/pyramid-spec.js';

// Paths are looked up one by one (not by listing a group's links): a file made by another tool,
// with odd things where our groups belong, answers "nothing there" rather than an HDF5 error.

const dir = tempDir('bdv-lookups-');
afterAll(() => dir.remove());

describe('looking up a view level in a file another tool made', () => {
  const path = join(dir.path, 'foreign.h5');
  execFileSync(PYTHON, [
    '-c',
    [
      'import sys, h5py, numpy as np',
      "with h5py.File(sys.argv[1], 'w') as f:",
      "    f['t00000/s00'] = np.zeros(4, 'i2')",
      "    f['t00001'] = h5py.SoftLink('/nowhere')",
      "    f.create_group('t00002')['s00'] = h5py.ExternalLink('missing.h5', '/t00002/s00')",
      "    f.create_dataset('t00003/s00/0/cells', shape=(4, 8, 8), dtype='i2', chunks=(2, 8, 8))",
    ].join('\n'),
    path,
  ]);

  it('finds the level that is there and nothing where a dataset or a dangling link stands', async () => {
    const file = await BdvH5File.openForReading(path);
    try {
      expect([0, 1, 2, 4].map((t) => file.cellsShape(t, 0, 0))).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect([0, 1, 2].map((t) => file.cellsChunkDepth(t, 0, 0))).toEqual([1, 1, 1]);
      expect(file.cellsShape(3, 0, 0)).toEqual([4, 8, 8]);
      expect(file.cellsChunkDepth(3, 0, 0)).toBe(2);
    } finally {
      file.close();
    }
  });
});

describe('setup headers', () => {
  it('are all written, each once, for thousands of setups', async () => {
    const path = join(dir.path, 'setups.h5');
    const file = await BdvH5File.create(path, { overwrite: true });
    const levels: LevelSpec[] = [{ factorsZyx: [1, 1, 1], blockZyx: [4, 256, 256] }];
    for (let s = 0; s < 3000; s++) file.writeSetupHeader(s, levels);
    file.close();
    const counted = execFileSync(PYTHON, [
      '-c',
      "import sys, h5py; f = h5py.File(sys.argv[1], 'r'); print(len(f), sum('subdivisions' in f[k] for k in f))",
      path,
    ]);
    expect(counted.toString().trim()).toBe('3000 3000');
  });
});
