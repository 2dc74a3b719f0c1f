import { describe, expect, it } from 'vitest';
import { pyramidLine } from '../src/convert/convert-action.js';
import type { ConversionResult } from '../src/convert/run-conversion.js';

const pyramid = (p: Partial<ConversionResult['pyramid']>): ConversionResult['pyramid'] => ({
  subsamplingZyx: [
    [1, 1, 1],
    [2, 2, 2],
  ],
  blockSizeZyx: [
    [16, 16, 16],
    [16, 16, 16],
  ],
  shallowerBlockLevels: [],
  widerBlockLevels: [],
  auto: ['subsamplingZyx', 'blockSizeZyx'],
  fromView: { key: 't0-i0-c0-s0-a0', shapeZyx: [32, 64, 64], voxelSizeXyz: [1, 1, 1] },
  ...p,
});

describe("the summary's pyramid line", () => {
  it('names what "auto" chose by the options of the quick form', () => {
    const line = pyramidLine(pyramid({}));
    expect(line).toContain('--subsampling and --block "auto": BigDataViewer\'s proposal for t0-i0-c0-s0-a0');
    expect(line).toMatch(/; --subsampling\/--block choose others$/);
    expect(line).not.toContain('subsamplingZyx');
  });

  it("names them by the manifest's fields for a manifest, and says where to choose others", () => {
    const line = pyramidLine(pyramid({ auto: ['blockSizeZyx'] }), true);
    expect(line).toContain('blockSizeZyx "auto": BigDataViewer\'s proposal');
    expect(line).toMatch(/; the manifest's dataset chooses others$/);
    expect(line).not.toContain('--block');
  });

  it('shows the block sizes each level uses: the first for all when fewer than the levels (npy2bdv)', () => {
    const three = {
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ],
      auto: [],
      fromView: undefined,
    };
    const fewer = pyramidLine(
      pyramid({
        ...three,
        blockSizeZyx: [
          [4, 64, 64],
          [4, 32, 32],
        ],
      }),
    );
    expect(fewer).toContain('blocks 4,64,64 (z,y,x)');
    expect(fewer).toContain('2 block sizes for 3 levels: the first serves every level, 4,32,32 not used');
    const one = pyramidLine(pyramid({ ...three, blockSizeZyx: [[4, 64, 64]] }));
    expect(one).toBe('  pyramid: 3 level(s) 1,1,1:2,2,2:4,4,4, blocks 4,64,64 (z,y,x)');
    const more = pyramidLine(
      pyramid({
        ...three,
        blockSizeZyx: [
          [4, 64, 64],
          [4, 32, 32],
          [2, 16, 16],
          [1, 8, 8],
        ],
      }),
    );
    expect(more).toContain('blocks 4,64,64:4,32,32:2,16,16 (z,y,x)');
    expect(more).toContain('1 block size(s) beyond the last level not used: 1,8,8');
  });

  it('says which proposed blocks were made wider, and why', () => {
    const line = pyramidLine(pyramid({ widerBlockLevels: [0] }));
    expect(line).toContain(
      'blocks of level(s) 0 made wider than proposed: the view would make more than the 4194304 chunks a writer keeps track of',
    );
  });

  it('has no "auto" note where nothing was proposed', () => {
    expect(pyramidLine(pyramid({ auto: [], fromView: undefined }))).not.toContain('auto');
  });
});
