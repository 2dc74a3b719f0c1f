import { describe, expect, it } from 'vitest';
import { quickFormProblems } from '../src/convert/quick-problems.js';

// The quick form has no manifest: its problems are said in files and options.
describe('quick-form problems', () => {
  const files = ['/in/t0_c0.npy', '/in/t0_c1.npy', '/in/t0_c0 (copy).npy'];

  it('names a view by its file, in the field and in the message', () => {
    expect(
      quickFormProblems(
        [
          { field: 'views[2]', message: 'duplicate view t0-i0-c0-s0-a0 (same as views[0])' },
          { field: 'views[1].channel', message: '1 is out of range: the dataset has 1 channels (0..0)' },
        ],
        files,
      ),
    ).toBe(
      '/in/t0_c0 (copy).npy: duplicate view t0-i0-c0-s0-a0 (same as /in/t0_c0.npy); /in/t0_c1.npy (channel): 1 is out of range: the dataset has 1 channels (0..0)',
    );
  });

  it('names the option behind a dataset field or a flag every view shares, once', () => {
    expect(
      quickFormProblems(
        [
          { field: 'dataset.name', message: 'must be 1-128 characters of A-Z a-z 0-9 . _ -' },
          { field: 'dataset.setup.tiles', message: 'Too big' },
          { field: 'dataset.attributeLabels.channel', message: 'needs 2 labels, got 1' },
          { field: 'views[0].voxelSizeXyz[0]', message: 'Too small: expected number to be >0' },
          { field: 'views[1].voxelSizeXyz[2]', message: 'Too small: expected number to be >0' },
          { field: 'dataset.somethingNew', message: 'kept as it is' },
          { field: 'dataset.subsamplingZyx[1][2]', message: 'Too big' },
          { field: 'dataset.blockSizeZyx[0]', message: 'level 0 only' },
          { field: 'dataset.blockSizeZyx', message: 'needs a block' },
        ],
        files,
      ),
    ).toBe(
      [
        '--name (by default the output file name, which then may only use A-Z a-z 0-9 . _ -): must be 1-128 characters of A-Z a-z 0-9 . _ -',
        '--tiles: Too big',
        '--labels: needs 2 labels, got 1',
        '--voxel-size: Too small: expected number to be >0',
        'dataset.somethingNew: kept as it is',
        '--subsampling (level 1, x): Too big',
        '--block (level 0): level 0 only',
        '--block: needs a block',
      ].join('; '),
    );
  });
});
