import { invalid } from '../errors.js';
import {
  MAX_BLOCK_DEPTH,
  MAX_BLOCK_DIM,
  MAX_CHUNK_VOXELS,
  MAX_LEVELS,
  MAX_STACK_DIM,
  MAX_STACK_VOXELS,
  MAX_SUBSAMPLING_FACTOR,
  MAX_VIEW_BUFFER_BYTES,
  MAX_VIEW_CHUNKS,
  SMALL_CHUNK_VOXELS,
  SMALL_CHUNK_WEIGHT,
} from './limits.js';

export type Zyx = [number, number, number];

/** One resolution level: its subsampling factors and HDF5 chunk (block) shape, both z,y,x. */
export interface LevelSpec {
  factorsZyx: Zyx;
  blockZyx: Zyx;
}

export const DEFAULT_SUBSAMPLING_ZYX: Zyx[] = [[1, 1, 1]];
export const DEFAULT_BLOCK_ZYX: Zyx[] = [[4, 256, 256]];

function asZyx(field: string, value: readonly number[], max: Zyx, what = 'integers'): Zyx {
  const inRange = value.length === 3 && value.every((v, i) => Number.isInteger(v) && v >= 1 && v <= max[i]!);
  if (!inRange) {
    throw invalid(
      field,
      `must be 3 ${what} in z,y,x order within 1..[${max.join(', ')}], got [${value.join(', ')}]`,
    );
  }
  return [value[0]!, value[1]!, value[2]!];
}

const FACTOR_MAX: Zyx = [MAX_SUBSAMPLING_FACTOR, MAX_SUBSAMPLING_FACTOR, MAX_SUBSAMPLING_FACTOR];
const BLOCK_MAX: Zyx = [MAX_BLOCK_DEPTH, MAX_BLOCK_DIM, MAX_BLOCK_DIM];

function asBlock(field: string, value: readonly number[]): Zyx {
  const block = asZyx(field, value, BLOCK_MAX);
  const voxels = block[0] * block[1] * block[2];
  if (voxels > MAX_CHUNK_VOXELS) {
    throw invalid(field, `a chunk of ${voxels} voxels is more than the ${MAX_CHUNK_VOXELS} allowed`);
  }
  return block;
}

/**
 * Why a pyramid's factors are refused, or undefined: level 0 is full resolution (the XML's
 * ViewSetup size is the stack's shape, BDV and BigStitcher take level 0 as the image), and every
 * further level subsamples at least as much as the one before on each axis, and more on one.
 */
export function pyramidOrderProblem(
  factors: readonly (readonly number[])[],
): { level: number; message: string } | undefined {
  const first = factors[0];
  if (first && first.some((f) => f !== 1)) {
    return { level: 0, message: `level 0 must be full resolution [1, 1, 1], got [${first.join(', ')}]` };
  }
  for (let level = 1; level < factors.length; level++) {
    const prev = factors[level - 1]!;
    const cur = factors[level]!;
    if (cur.some((f, axis) => f < prev[axis]!) || cur.every((f, axis) => f === prev[axis])) {
      return {
        level,
        message: `must subsample at least as much as level ${level - 1} on every axis and more on one: [${prev.join(', ')}] then [${cur.join(', ')}]`,
      };
    }
  }
  return undefined;
}

/**
 * Levels as npy2bdv builds them: one per subsampling entry; when fewer block sizes than levels
 * are given, the first block size serves every level. Bounded by model/limits.ts.
 */
export function resolveLevels(
  subsamplingZyx: readonly (readonly number[])[] = DEFAULT_SUBSAMPLING_ZYX,
  blockSizeZyx: readonly (readonly number[])[] = DEFAULT_BLOCK_ZYX,
): LevelSpec[] {
  if (subsamplingZyx.length === 0) throw invalid('subsamplingZyx', 'needs at least one level');
  if (blockSizeZyx.length === 0) throw invalid('blockSizeZyx', 'needs at least one block size');
  if (subsamplingZyx.length > MAX_LEVELS)
    throw invalid('subsamplingZyx', `at most ${MAX_LEVELS} levels, got ${subsamplingZyx.length}`);
  if (blockSizeZyx.length > MAX_LEVELS)
    throw invalid('blockSizeZyx', `at most ${MAX_LEVELS} block sizes, got ${blockSizeZyx.length}`);
  const factors = subsamplingZyx.map((f, i) => asZyx(`subsamplingZyx[${i}]`, f, FACTOR_MAX));
  const order = pyramidOrderProblem(factors);
  if (order) throw invalid(`subsamplingZyx[${order.level}]`, order.message);
  const blocks = blockSizeZyx.map((b, i) => asBlock(`blockSizeZyx[${i}]`, b));
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

const STACK_MAX: Zyx = [MAX_STACK_DIM, MAX_STACK_DIM, MAX_STACK_DIM];

export function assertStackShape(field: string, shapeZyx: readonly number[]): Zyx {
  const shape = asZyx(field, shapeZyx, STACK_MAX, 'positive integers');
  const voxels = shape[0] * shape[1] * shape[2];
  if (voxels > MAX_STACK_VOXELS) {
    throw invalid(field, `a stack of ${voxels} voxels is more than the ${MAX_STACK_VOXELS} allowed`);
  }
  return shape;
}

/**
 * Bytes writing one view of `shapeZyx` buffers for its levels: per level, an output slab one chunk
 * deep over the level's whole plane (slabs are whole chunks deep so each chunk is written once)
 * and, when the level subsamples, a float64 accumulator plane.
 */
export function viewBufferBytes(shapeZyx: Zyx, levels: readonly LevelSpec[]): number {
  let bytes = 0;
  for (const { factorsZyx, blockZyx } of levels) {
    const [nz, ny, nx] = levelShape(shapeZyx, factorsZyx);
    const subsampled = factorsZyx.some((f) => f !== 1);
    bytes += Math.min(blockZyx[0], nz) * ny * nx * 2 + (subsampled ? ny * nx * 8 : 0);
  }
  return bytes;
}

/**
 * The chunks HDF5 keeps track of for one view (MAX_VIEW_CHUNKS): each level's chunk count, a
 * level's chunks under SMALL_CHUNK_VOXELS counting SMALL_CHUNK_WEIGHT times.
 */
export function viewChunkWeight(shapeZyx: Zyx, levels: readonly LevelSpec[]): number {
  let weight = 0;
  for (const { factorsZyx, blockZyx } of levels) {
    const shape = levelShape(shapeZyx, factorsZyx);
    const chunks = shape.reduce((n, extent, axis) => n * Math.ceil(extent / blockZyx[axis]!), 1);
    const voxels = blockZyx[0] * blockZyx[1] * blockZyx[2];
    weight += chunks * (voxels < SMALL_CHUNK_VOXELS ? SMALL_CHUNK_WEIGHT : 1);
  }
  return weight;
}

/**
 * Refuses a stack whose planes are so large that chunk-deep slabs break a view's memory bound, or
 * whose blocks are so small for it that HDF5's bookkeeping of its chunks would.
 */
export function viewBufferProblem(shapeZyx: Zyx, levels: readonly LevelSpec[]): string | undefined {
  const stack = `a ${shapeZyx.join('x')} (z,y,x) stack`;
  const bytes = viewBufferBytes(shapeZyx, levels);
  const mib = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
  if (bytes > MAX_VIEW_BUFFER_BYTES)
    return (
      `${stack} with these blocks needs ${mib(bytes)} of chunk-deep slabs ` +
      `(more than ${mib(MAX_VIEW_BUFFER_BYTES)}); use a smaller block depth (blockSizeZyx z)`
    );
  const chunks = viewChunkWeight(shapeZyx, levels);
  if (chunks > MAX_VIEW_CHUNKS) {
    const small = levels.some(({ blockZyx: [z, y, x] }) => z * y * x < SMALL_CHUNK_VOXELS);
    return (
      `${stack} in blocks ${levels.map((l) => l.blockZyx.join(',')).join(':')} makes ${chunks} HDF5 chunks` +
      (small ? ` (a chunk under ${SMALL_CHUNK_VOXELS} voxels counts ${SMALL_CHUNK_WEIGHT})` : '') +
      `, more than the ${MAX_VIEW_CHUNKS} a writer keeps track of; use blocks with ${Math.ceil(chunks / MAX_VIEW_CHUNKS)}x ` +
      `the voxels or more (wider in y and x keeps the slabs as they are)`
    );
  }
  return undefined;
}

export function assertViewBuffer(shapeZyx: Zyx, levels: readonly LevelSpec[]): void {
  const problem = viewBufferProblem(shapeZyx, levels);
  if (problem) throw invalid('blockSizeZyx', problem);
}

export function reversed(zyx: readonly number[]): Zyx {
  return [zyx[2]!, zyx[1]!, zyx[0]!];
}
