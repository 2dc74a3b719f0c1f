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
          { field: 'views[1].channel', message: '1 is out of range: the dataset has 1 channel (0..0)' },
        ],
        files,
      ),
    ).toBe(
      '/in/t0_c0 (copy).npy: duplicate view t0-i0-c0-s0-a0 (same as /in/t0_c0.npy); /in/t0_c1.npy (channel): 1 is out of range: the dataset has 1 channel (0..0)',
    );
  });

  it('names the option behind a dataset field or a flag every view shares, once', () => {
    expect(
      quickFormProblems(
        [
          { field: 'dataset.name', message: 'must be 1-128 characters of A-Z a-z 0-9 . _ -' },
          { field: 'dataset.setup.tiles', message: 'Too big' },
          { field: 'dataset.attributeLabels.channel', message: 'needs 2 labels (one per channel), got 1' },
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
        '--name: must be 1-128 characters of A-Z a-z 0-9 . _ -',
        '--tiles: Too big',
        '--labels channel: needs 2 labels (one per channel), got 1',
        '--voxel-size: Too small: expected number to be >0',
        'dataset.somethingNew: kept as it is',
        '--subsampling (level 1, x): Too big',
        '--block (level 0): level 0 only',
        '--block: needs a block',
      ].join('; '),
    );
  });

  it('says to pass --name when the name came from the output file, keeping the file name', () => {
    expect(
      quickFormProblems(
        [{ field: 'dataset.name', message: 'must be 1-128 characters of A-Z a-z 0-9 . _ -' }],
        files,
        'Ergebnis ü',
      ),
    ).toBe(
      "the dataset name is by default the output file's name ('Ergebnis ü'), and a dataset name must be 1-128 characters of A-Z a-z 0-9 . _ -: pass --name <a simple name> (the file may keep its name)",
    );
  });

  it('says the problems of the first few files and counts the rest, after the options', () => {
    const many = Array.from({ length: 8 }, (_, i) => `/in/t${i}.npy`);
    const problems = many.map((_, i) => ({ field: `views[${i}].time`, message: `${i} is out of range` }));
    expect(quickFormProblems([...problems, { field: 'dataset.setup.tiles', message: 'Too big' }], many)).toBe(
      '--tiles: Too big; /in/t0.npy (time): 0 is out of range; /in/t1.npy (time): 1 is out of range; /in/t2.npy (time): 2 is out of range; and 5 more of other files',
    );
  });
});
