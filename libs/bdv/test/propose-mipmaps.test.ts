import { describe, expect, it } from 'vitest';
import { MAX_LEVELS, pyramidOrderProblem, proposeMipmaps, resolveLevels } from '../src/index.js';

type Zyx = [number, number, number];

/**
 * Expected pyramids worked out by hand from BigDataViewer's rule (ProposeMipmaps), not by running
 * the code. Notation in the comments: s = normalised voxel scale (x,y,z), f = factors (x,y,z),
 * n = floor(extent / f) per axis (x,y,z). Block 32x32x4 when 4·vmax/32 > 1/vmax, i.e. vmax² > 8
 * (vmax > 2.83); the 4 lies on the coarsest axis (first in x,y,z order on a tie). Arrays in the
 * table are z,y,x as the API takes them.
 */
const ROWS: {
  name: string;
  shapeZyx: Zyx;
  voxelSizeXyz: Zyx;
  subsamplingZyx: Zyx[];
  blockSizeZyx: Zyx[];
}[] = [
  {
    // s (1,1,1): vmax 1, 0.125 > 1 no -> 16³. n (200,200,100): 200 <= 256 -> stop at level 0.
    name: 'small isotropic stack: one level',
    shapeZyx: [100, 200, 200],
    voxelSizeXyz: [1, 1, 1],
    subsamplingZyx: [[1, 1, 1]],
    blockSizeZyx: [[16, 16, 16]],
  },
  {
    // Largest extent exactly 256: stop at level 0 (the test is <= 256).
    name: 'extent 256 is small enough',
    shapeZyx: [256, 256, 256],
    voxelSizeXyz: [0.3, 0.3, 0.3],
    subsamplingZyx: [[1, 1, 1]],
    blockSizeZyx: [[16, 16, 16]],
  },
  {
    // L0: s (1,1,1), 16³; n x=513 > 256 -> every s <= 2 doubles: f (2,2,2).
    // L1: n x = floor(513/2) = 256 <= 256 -> stop (BDV divides with integer division, not ceil).
    name: 'extents divide rounding down, as BDV does',
    shapeZyx: [1, 1, 513],
    voxelSizeXyz: [1, 1, 1],
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 2],
    ],
    blockSizeZyx: [
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // Typical light sheet: (0.65,0.65,2) -> s (1,1,3.077). L0: vmax 3.077 (z), 0.385 > 0.325 ->
    // 32x32x4, 4 along z -> zyx [4,32,32]; n (2048,2048,100) > 256; s_x,s_y <= 2 double, s_z does
    // not: f (2,2,1), s (2,2,3.077) -> (1,1,1.538).
    // L1: vmax 1.538: 0.192 > 0.65 no -> 16³; n (1024,1024,100) -> all double: f (4,4,2), s stays
    // (1,1,1.538). L2: 16³; n 512 -> f (8,8,4). L3: 16³; n (256,256,25) -> stop.
    name: 'camera stack with 3x coarser z: 4-deep chunks at level 0, then 16³',
    shapeZyx: [100, 2048, 2048],
    voxelSizeXyz: [0.65, 0.65, 2],
    subsamplingZyx: [
      [1, 1, 1],
      [1, 2, 2],
      [2, 4, 4],
      [4, 8, 8],
    ],
    blockSizeZyx: [
      [4, 32, 32],
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // s (4,1,1): vmax 4 on x, 0.5 > 0.25 -> x,y,z (4,32,32) -> zyx [32,32,4]. n 300 > 256;
    // y,z double: f (1,2,2), s (4,2,2) -> (2,1,1).
    // L1: vmax 2: 0.25 > 0.5 no -> 16³; n (300,150,150) -> all s <= 2 (x is exactly 2): f (2,4,4),
    // s (4,2,2) -> (2,1,1). L2: 16³; n (150,75,75) -> stop.
    name: 'coarse x: the 4 of the chunk lies along x',
    shapeZyx: [300, 300, 300],
    voxelSizeXyz: [4, 1, 1],
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 1],
      [4, 4, 2],
    ],
    blockSizeZyx: [
      [32, 32, 4],
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // s (3,3,1): vmax 3 on x and y, x comes first; 0.375 > 0.333 -> zyx [32,32,4]. n z=600 > 256;
    // only z (1 <= 2) doubles: f (1,1,2), s (3,3,2) -> (1.5,1.5,1).
    // L1: vmax 1.5: 0.1875 > 0.667 no -> 16³; n z=300 -> all double: f (2,2,4), s stays.
    // L2: 16³; n (50,50,150) -> stop.
    name: 'tie between coarse x and y: x wins, as in BDV',
    shapeZyx: [600, 100, 100],
    voxelSizeXyz: [3, 3, 1],
    subsamplingZyx: [
      [1, 1, 1],
      [2, 1, 1],
      [4, 2, 2],
    ],
    blockSizeZyx: [
      [32, 32, 4],
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // s (1,1,2.8): vmax² = 7.84 <= 8 -> 16³ (just below the 32x32x4 threshold). n 1000 > 256;
    // x,y double (z 2.8 > 2): f (2,2,1), s (2,2,2.8) -> (1,1,1.4).
    // L1: 16³; n (500,500,10) -> all double: f (4,4,2), s stays (1,1,1.4). L2: 16³; n 250 -> stop.
    name: 'z scale 2.8: below the 32x32x4 threshold',
    shapeZyx: [10, 1000, 1000],
    voxelSizeXyz: [1, 1, 2.8],
    subsamplingZyx: [
      [1, 1, 1],
      [1, 2, 2],
      [2, 4, 4],
    ],
    blockSizeZyx: [
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // s (1,1,10). L0: vmax 10: 1.25 > 0.1 -> [4,32,32]; n (2048,2048,2000); x,y double:
    // f (2,2,1), s (2,2,10) -> (1,1,5).
    // L1: vmax 5: 0.625 > 0.2 -> [4,32,32]; n (1024,1024,2000); x,y: f (4,4,1), s -> (1,1,2.5).
    // L2: vmax 2.5: 0.3125 > 0.4 no -> 16³; n (512,512,2000); z 2.5 > 2: f (8,8,1), s -> (1,1,1.25).
    // L3: 16³; n (256,256,2000); all double: f (16,16,2), s stays (1,1,1.25).
    // L4: n z=1000 -> f (32,32,4). L5: n z=500 -> f (64,64,8). L6: n (32,32,250) -> stop.
    name: 'very coarse z: z is subsampled only once x and y have caught up',
    shapeZyx: [2000, 2048, 2048],
    voxelSizeXyz: [1, 1, 10],
    subsamplingZyx: [
      [1, 1, 1],
      [1, 2, 2],
      [1, 4, 4],
      [1, 8, 8],
      [2, 16, 16],
      [4, 32, 32],
      [8, 64, 64],
    ],
    blockSizeZyx: [
      [4, 32, 32],
      [4, 32, 32],
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
    ],
  },
  {
    // s (1,1,1); n x = 2^20 would need 13 levels to reach 256 (2^20 / 2^12); capped at
    // MAX_LEVELS = 10: factors 1 .. 2^9 on every axis, 16³ throughout.
    name: 'capped at 10 levels',
    shapeZyx: [1, 1, 2 ** 20],
    voxelSizeXyz: [1, 1, 1],
    subsamplingZyx: Array.from({ length: 10 }, (_, i): Zyx => [2 ** i, 2 ** i, 2 ** i]),
    blockSizeZyx: Array.from({ length: 10 }, (): Zyx => [16, 16, 16]),
  },
];

describe('proposeMipmaps (BigDataViewer ProposeMipmaps rule)', () => {
  it.each(ROWS)('$name', ({ shapeZyx, voxelSizeXyz, subsamplingZyx, blockSizeZyx }) => {
    const proposal = proposeMipmaps(shapeZyx, voxelSizeXyz);
    expect(proposal.subsamplingZyx).toEqual(subsamplingZyx);
    expect(proposal.blockSizeZyx).toEqual(blockSizeZyx);
  });

  it('only the ratios of the voxel size count (units do not)', () => {
    expect(proposeMipmaps([100, 2048, 2048], [650, 650, 2000])).toEqual(
      proposeMipmaps([100, 2048, 2048], [0.65, 0.65, 2]),
    );
  });

  it('every proposal is a pyramid the format accepts (level 0 full, factors grow, <= 10 levels)', () => {
    for (const { shapeZyx, voxelSizeXyz } of ROWS) {
      const p = proposeMipmaps(shapeZyx, voxelSizeXyz);
      expect(p.subsamplingZyx.length).toBeLessThanOrEqual(MAX_LEVELS);
      expect(pyramidOrderProblem(p.subsamplingZyx)).toBeUndefined();
      expect(() => resolveLevels(p.subsamplingZyx, p.blockSizeZyx)).not.toThrow();
    }
  });

  it('refuses shapes and voxel sizes it cannot work from, naming them', () => {
    expect(() => proposeMipmaps([0, 10, 10], [1, 1, 1])).toThrow(/shapeZyx/);
    expect(() => proposeMipmaps([10, 10], [1, 1, 1])).toThrow(/shapeZyx/);
    expect(() => proposeMipmaps([10, 10, 10], [1, 0, 1])).toThrow(/voxelSizeXyz/);
    expect(() => proposeMipmaps([10, 10, 10], [1, Number.NaN, 1])).toThrow(/voxelSizeXyz/);
  });
});
