import { BdvError, invalid } from '../errors.js';
import { levelShape, type LevelSpec, type Zyx } from '../model/pyramid-spec.js';
import { downsampleStack } from '../pyramid/block-mean.js';
import { blockKernels } from '../pyramid/block-kernels.js';

/** One level's share of a block written into a virtual view: where it goes and its voxels. */
export interface LevelBlock {
  level: number;
  offsetZyx: Zyx;
  countZyx: Zyx;
  data: Uint16Array;
}

/** Plane `z` of a (nz,ny,nx) view at every level: xy block means (levels must not subsample z). */
export function planeAtLevels(
  plane: Uint16Array,
  z: number,
  shapeZyx: Zyx,
  levels: readonly LevelSpec[],
): LevelBlock[] {
  const [nz, ny, nx] = shapeZyx;
  if (plane.length !== ny * nx)
    throw invalid('plane', `has ${plane.length} values, the view's planes are ${ny}x${nx}`);
  if (!Number.isInteger(z) || z < 0 || z >= nz)
    throw new BdvError('OUT_OF_RANGE', `plane index ${z} outside 0..${nz - 1}`, 'z');
  const kernels = blockKernels();
  return levels.map((level, l) => {
    const [fz, fy, fx] = level.factorsZyx;
    if (fz !== 1)
      throw new BdvError(
        'UNSUPPORTED',
        `appendPlane needs z-subsampling 1, level ${l} has ${fz}`,
        'subsamplingZyx',
      );
    const [, nyo, nxo] = levelShape(shapeZyx, level.factorsZyx);
    let data = plane;
    if (fy !== 1 || fx !== 1) {
      const acc = new Float64Array(nyo * nxo);
      kernels.addPlaneBlockSums(plane, ny, nx, fy, fx, acc);
      data = new Uint16Array(nyo * nxo);
      kernels.takeBlockMeans(acc, fy * fx, data);
    }
    return { level: l, offsetZyx: [z, 0, 0], countZyx: [1, nyo, nxo], data };
  });
}

/**
 * A (z,y,x) block at `startZyx` of a view at every level: each level gets the block's own
 * zero-padded mean at offset floor(start / f), as npy2bdv's append_substack.
 */
export function substackAtLevels(
  substack: Uint16Array,
  shape: Zyx,
  startZyx: readonly number[],
  viewShapeZyx: Zyx,
  levels: readonly LevelSpec[],
): LevelBlock[] {
  if (substack.length !== shape[0] * shape[1] * shape[2])
    throw invalid('substack', `has ${substack.length} values, not ${shape.join('x')}`);
  for (let axis = 0; axis < 3; axis++) {
    const start = startZyx[axis]!;
    if (!Number.isInteger(start) || start < 0 || start + shape[axis]! > viewShapeZyx[axis]!) {
      throw new BdvError(
        'OUT_OF_RANGE',
        `substack ${'zyx'[axis]} range ${start}..${start + shape[axis]!} exceeds ${viewShapeZyx[axis]}`,
        'startZyx',
      );
    }
  }
  return levels.map((level, l) => {
    const f = level.factorsZyx;
    const full = levelShape(viewShapeZyx, f);
    const offsetZyx: Zyx = [
      Math.floor(startZyx[0]! / f[0]),
      Math.floor(startZyx[1]! / f[1]),
      Math.floor(startZyx[2]! / f[2]),
    ];
    const block = downsampleStack(substack, shape, f);
    const blockShape = levelShape(shape, f);
    const countZyx = blockShape.map((n, a) => Math.min(n, full[a]! - offsetZyx[a]!)) as Zyx;
    const data = countZyx.join() === blockShape.join() ? block : cropBlock(block, blockShape, countZyx);
    return { level: l, offsetZyx, countZyx, data };
  });
}

function cropBlock(block: Uint16Array, shape: Zyx, count: Zyx): Uint16Array {
  const out = new Uint16Array(count[0] * count[1] * count[2]);
  for (let z = 0; z < count[0]; z++) {
    for (let y = 0; y < count[1]; y++) {
      const from = (z * shape[1] + y) * shape[2];
      out.set(block.subarray(from, from + count[2]), (z * count[1] + y) * count[2]);
    }
  }
  return out;
}
