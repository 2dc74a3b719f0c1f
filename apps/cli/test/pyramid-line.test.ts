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

  it('has no "auto" note where nothing was proposed', () => {
    expect(pyramidLine(pyramid({ auto: [], fromView: undefined }))).not.toContain('auto');
  });
});
