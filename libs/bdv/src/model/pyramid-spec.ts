import { invalid } from '../errors.js';

export type Zyx = [number, number, number];

/** One resolution level: its subsampling factors and HDF5 chunk (block) shape, both z,y,x. */
export interface LevelSpec {
  factorsZyx: Zyx;
  blockZyx: Zyx;
}

export const DEFAULT_SUBSAMPLING_ZYX: Zyx[] = [[1, 1, 1]];
export const DEFAULT_BLOCK_ZYX: Zyx[] = [[4, 256, 256]];

function asZyx(field: string, value: readonly number[]): Zyx {
  if (value.length !== 3 || !value.every((v) => Number.isInteger(v) && v >= 1)) {
    throw invalid(field, `must be 3 integers >= 1 in z,y,x order, got [${value.join(', ')}]`);
  }
  return [value[0]!, value[1]!, value[2]!];
}

/**
 * Levels as npy2bdv builds them: one per subsampling entry; when fewer block sizes than levels
 * are given, the first block size serves every level.
 */
export function resolveLevels(
  subsamplingZyx: readonly (readonly number[])[] = DEFAULT_SUBSAMPLING_ZYX,
  blockSizeZyx: readonly (readonly number[])[] = DEFAULT_BLOCK_ZYX,
): LevelSpec[] {
  if (subsamplingZyx.length === 0) throw invalid('subsamplingZyx', 'needs at least one level');
  if (blockSizeZyx.length === 0) throw invalid('blockSizeZyx', 'needs at least one block size');
  const factors = subsamplingZyx.map((f, i) => asZyx(`subsamplingZyx[${i}]`, f));
  const blocks = blockSizeZyx.map((b, i) => asZyx(`blockSizeZyx[${i}]`, b));
  const useFirstBlock = blocks.length < factors.length;
  return factors.map((factorsZyx, level) => ({
    factorsZyx,
    blockZyx: useFirstBlock ? blocks[0]! : blocks[level]!,
  }));
}

/** Shape of a level: ceil(n / f) per axis, as skimage's zero-padded block mean gives. */
export function levelShape(shapeZyx: Zyx, factorsZyx: Zyx): Zyx {
  return [
    Math.ceil(shapeZyx[0] / factorsZyx[0]),
    Math.ceil(shapeZyx[1] / factorsZyx[1]),
    Math.ceil(shapeZyx[2] / factorsZyx[2]),
  ];
}

export function assertStackShape(field: string, shapeZyx: readonly number[]): Zyx {
  if (shapeZyx.length !== 3 || !shapeZyx.every((v) => Number.isInteger(v) && v >= 1)) {
    throw invalid(field, `must be 3 positive integers (z,y,x), got [${shapeZyx.join(', ')}]`);
  }
  return [shapeZyx[0]!, shapeZyx[1]!, shapeZyx[2]!];
}

export function reversed(zyx: readonly number[]): Zyx {
  return [zyx[2]!, zyx[1]!, zyx[0]!];
}
