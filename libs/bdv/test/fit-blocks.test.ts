import { describe, expect, it } from 'vitest';
import {
  blocksWithinViewBuffer,
  MAX_BLOCK_DIM,
  MAX_VIEW_BUFFER_BYTES,
  MAX_VIEW_CHUNKS,
  proposeMipmaps,
  resolveLevels,
  viewBufferBytes,
  viewBufferProblem,
  viewChunkWeight,
  type Zyx,
} from '../src/index.js';

const voxels = (b: Zyx) => b[0] * b[1] * b[2];

/** BigDataViewer's proposal for an isotropic stack, fitted. */
function fittedProposal(shapeZyx: Zyx) {
  const proposal = proposeMipmaps(shapeZyx, [1, 1, 1]);
  const fitted = blocksWithinViewBuffer(shapeZyx, proposal.subsamplingZyx, proposal.blockSizeZyx);
  return { proposal, fitted, levels: resolveLevels(proposal.subsamplingZyx, fitted.blockSizeZyx) };
}

describe("blocksWithinViewBuffer (auto blocks within a view's memory bound)", () => {
  it('leaves blocks that fit as proposed (a 2048x2048 camera in 16³)', () => {
    const { proposal, fitted, levels } = fittedProposal([200, 2048, 2048]);
    expect(fitted.blockSizeZyx).toEqual(proposal.blockSizeZyx);
    expect(fitted.shallowerLevels).toEqual([]);
    expect(viewBufferBytes([200, 2048, 2048], levels)).toBeLessThanOrEqual(MAX_VIEW_BUFFER_BYTES);
  });

  for (const shape of [
    [200, 3200, 3200], // a 3200x3200 camera: level 0's 16-plane slab is 312 MiB
    [20, 4096, 4096],
    [300, 5000, 5000], // a stitched plane: 48 MiB each, level 1 too deep as well
  ] as Zyx[])
    it(`makes the largest slabs shallower until they fit, chunks keeping their voxels (${shape.join('x')})`, () => {
      const { proposal, fitted, levels } = fittedProposal(shape);
      expect(
        viewBufferProblem(shape, resolveLevels(proposal.subsamplingZyx, proposal.blockSizeZyx)),
      ).toBeDefined();
      expect(viewBufferProblem(shape, levels)).toBeUndefined();
      expect(fitted.shallowerLevels).toContain(0);
      fitted.blockSizeZyx.forEach((block, level) => {
        const was = proposal.blockSizeZyx[level]!;
        expect(block[0]).toBeLessThanOrEqual(was[0]);
        expect(Math.max(block[1], block[2])).toBeLessThanOrEqual(MAX_BLOCK_DIM);
        const changed = fitted.shallowerLevels.includes(level) || fitted.widerLevels.includes(level);
        if (!changed) expect(block).toEqual(was);
        // halving a depth the level does not have (5 planes of a 16-deep block) keeps fewer
        else if (!fitted.widerLevels.includes(level)) expect(voxels(block)).toBeLessThanOrEqual(voxels(was));
      });
      if (!fitted.widerLevels.includes(0))
        expect(voxels(fitted.blockSizeZyx[0]!)).toBe(voxels(proposal.blockSizeZyx[0]!));
    });

  it('widens blocks across the plane where a stack of many GiB would make too many chunks', () => {
    // 47 GiB of 5000x5000 planes: the shallower 1,64,64 blocks alone make 6.2 million chunks
    const shape: Zyx = [1000, 5000, 5000];
    const { proposal, fitted, levels } = fittedProposal(shape);
    expect(fitted.widerLevels).toContain(0);
    expect(viewChunkWeight(shape, levels)).toBeLessThanOrEqual(MAX_VIEW_CHUNKS);
    expect(viewBufferProblem(shape, levels)).toBeUndefined();
    // as deep as fitted for the slabs, never deeper than proposed
    fitted.blockSizeZyx.forEach((block, level) =>
      expect(block[0]).toBeLessThanOrEqual(proposal.blockSizeZyx[level]![0]),
    );
    // a 2 GiB camera stack keeps BigDataViewer's 16³ as proposed
    expect(fittedProposal([256, 2048, 2048]).fitted.widerLevels).toEqual([]);
  });

  it.each([
    // (review) planes of few rows and many columns: widening y only added padding
    [
      [65536, 128, 131072],
      [1, 0.25, 1],
    ],
    [
      [16384, 12, 1048576],
      [1, 1, 1],
    ],
    [
      [1536, 1, 1048576],
      [1, 1, 1],
    ],
  ] as [Zyx, Zyx][])('widens along the axis with the most chunks (%j)', (shape, voxelXyz) => {
    const proposal = proposeMipmaps(shape, voxelXyz);
    const fitted = blocksWithinViewBuffer(shape, proposal.subsamplingZyx, proposal.blockSizeZyx);
    expect(
      viewBufferProblem(shape, resolveLevels(proposal.subsamplingZyx, fitted.blockSizeZyx)),
    ).toBeUndefined();
  });

  it('gives one block per level, the first serving all when fewer were given', () => {
    const fitted = blocksWithinViewBuffer(
      [64, 512, 512],
      [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ],
      [[16, 16, 16]],
    );
    expect(fitted.blockSizeZyx).toEqual([
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
    ]);
  });

  it('stops at one-plane blocks when even those do not fit: the refusal then stands', () => {
    // one 16384x16384 plane is 512 MiB: no block depth makes it fit
    const shape: Zyx = [4, 16384, 16384];
    const fitted = blocksWithinViewBuffer(shape, [[1, 1, 1]], [[16, 16, 16]]);
    expect(fitted.blockSizeZyx).toEqual([[1, 64, 64]]);
    expect(fitted.shallowerLevels).toEqual([0]);
    expect(viewBufferProblem(shape, resolveLevels([[1, 1, 1]], fitted.blockSizeZyx))).toMatch(
      /more than 256 MiB/,
    );
  });

  it('does not change the blocks it was given', () => {
    const given: Zyx[] = [[16, 16, 16]];
    blocksWithinViewBuffer([20, 4096, 4096], [[1, 1, 1]], given);
    expect(given).toEqual([[16, 16, 16]]);
  });
});
