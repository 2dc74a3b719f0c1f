import { invalid } from '../errors.js';
import { MAX_LEVELS, MAX_STACK_DIM } from './limits.js';
import type { Zyx } from './pyramid-spec.js';

/** The pyramid BigDataViewer's exporter would propose: per level its factors and its chunk shape. */
export interface ProposedMipmaps {
  subsamplingZyx: Zyx[];
  blockSizeZyx: Zyx[];
}

/** Axes in BigDataViewer's order (x, y, z): its tie-breaks go by this order. */
type Xyz = [number, number, number];

/** A level stops the pyramid once its largest extent is at most this (BDV's constant). */
export const PROPOSED_MAX_EXTENT = 256;

/** Normalised voxel scales above this are not subsampled on the next level (BDV's constant). */
const MAX_SCALE_TO_HALVE = 2;

/**
 * The chunk of one level, x,y,z. 32x32x4 with the 4 along the coarsest axis when that is closer
 * to a cube in world space than 16x16x16, i.e. when `4·vmax/32 > 1/vmax` (vmax: the coarsest
 * normalised voxel scale; the first coarsest in x,y,z order on a tie).
 */
function proposedBlock(scale: Xyz): Xyz {
  let dmax = 0;
  for (let d = 1; d < 3; d++) if (scale[d]! > scale[dmax]!) dmax = d;
  const vmax = scale[dmax]!;
  if ((4 * vmax) / 32 <= 1 / vmax) return [16, 16, 16];
  const block: Xyz = [32, 32, 32];
  block[dmax] = 4;
  return block;
}

/** Divides by the smallest entry, so the finest axis has scale 1. */
function normalised(scale: Xyz): Xyz {
  const min = Math.min(...scale);
  return [scale[0] / min, scale[1] / min, scale[2] / min];
}

const toZyx = (xyz: Xyz): Zyx => [xyz[2], xyz[1], xyz[0]];

/**
 * Proposes subsampling factors and chunk shapes the way BigDataViewer's exporter does
 * (bdv.export.ProposeMipmaps): normalise the voxel size so its smallest dimension is 1; per level,
 * the chunk of `proposedBlock`; stop when the level's largest extent (the full extent divided by
 * the factor, rounded down as BDV's integer division does) is at most 256; otherwise double the
 * factor of every axis whose normalised scale is at most 2 (that scale doubles with it) and
 * normalise again. Capped at MAX_LEVELS levels (model/limits.ts), so the factors stay within
 * their cap too (at most 2^9); level 0 is [1,1,1] and factors never shrink, as the format needs.
 */
export function proposeMipmaps(
  shapeZyx: readonly number[],
  voxelSizeXyz: readonly number[],
): ProposedMipmaps {
  if (shapeZyx.length !== 3 || !shapeZyx.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_STACK_DIM))
    throw invalid('shapeZyx', `must be 3 integers 1..${MAX_STACK_DIM} (z,y,x), got [${shapeZyx.join(', ')}]`);
  if (voxelSizeXyz.length !== 3 || !voxelSizeXyz.every((v) => Number.isFinite(v) && v > 0))
    throw invalid('voxelSizeXyz', `must be 3 finite numbers > 0 (x,y,z), got [${voxelSizeXyz.join(', ')}]`);
  const size: Xyz = [shapeZyx[2]!, shapeZyx[1]!, shapeZyx[0]!];
  let scale = normalised([voxelSizeXyz[0]!, voxelSizeXyz[1]!, voxelSizeXyz[2]!]);
  const factors: Xyz = [1, 1, 1];
  const proposal: ProposedMipmaps = { subsamplingZyx: [], blockSizeZyx: [] };
  for (;;) {
    proposal.subsamplingZyx.push(toZyx(factors));
    proposal.blockSizeZyx.push(toZyx(proposedBlock(scale)));
    const largest = Math.max(...size.map((n, d) => Math.floor(n / factors[d]!)));
    if (largest <= PROPOSED_MAX_EXTENT || proposal.subsamplingZyx.length === MAX_LEVELS) return proposal;
    const next: Xyz = [...scale];
    for (let d = 0; d < 3; d++) {
      if (scale[d]! <= MAX_SCALE_TO_HALVE) {
        factors[d] = factors[d]! * 2;
        next[d] = next[d]! * 2;
      }
    }
    scale = normalised(next);
  }
}
