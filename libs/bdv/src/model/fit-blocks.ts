import { MAX_BLOCK_DIM, MAX_CHUNK_VOXELS, MAX_VIEW_BUFFER_BYTES, MAX_VIEW_CHUNKS } from './limits.js';
import { levelShape, viewBufferBytes, viewChunkWeight, type LevelSpec, type Zyx } from './pyramid-spec.js';

/** Chosen blocks, one per level, and the levels whose blocks had to be made shallower or wider. */
export interface FittedBlocks {
  blockSizeZyx: Zyx[];
  shallowerLevels: number[];
  widerLevels: number[];
}

/**
 * Chosen ("auto") blocks for levels of `subsamplingZyx`, made shallower where the view's
 * chunk-deep slabs would pass MAX_VIEW_BUFFER_BYTES (viewBufferBytes): BigDataViewer proposes
 * 16,16,16 for isotropic voxels (npy2bdv's default 1,1,1 among them), which on a 3200x3200 camera
 * is a 312 MiB slab for level 0 alone, and the writer refuses such a view. The level with the
 * largest slab gives up half its block depth, and gets it back across the plane (the smaller of y
 * and x doubled, within MAX_BLOCK_DIM) so chunks keep their voxels, until the slabs fit or every
 * block is one plane deep (then the writer's refusal stands: planes that large need explicit
 * blocks and more memory than a view may take). Blocks that fit come back as they were, one per level.
 */
export function blocksWithinViewBuffer(
  shapeZyx: Zyx,
  subsamplingZyx: readonly Zyx[],
  blockSizeZyx: readonly Zyx[],
): FittedBlocks {
  const levels: LevelSpec[] = subsamplingZyx.map((factorsZyx, i) => ({
    factorsZyx,
    blockZyx: [...(blockSizeZyx[i] ?? blockSizeZyx[0]!)] as Zyx,
  }));
  const shallower = new Set<number>();
  while (viewBufferBytes(shapeZyx, levels) > MAX_VIEW_BUFFER_BYTES) {
    const widest = largestSlab(shapeZyx, levels);
    if (widest < 0) break;
    const block = levels[widest]!.blockZyx;
    const depth = Math.min(block[0], levelShape(shapeZyx, levels[widest]!.factorsZyx)[0]);
    const halved = Math.max(1, Math.floor(depth / 2));
    for (let grow = block[0] / halved; grow >= 2; grow /= 2) {
      const axis = block[1] <= block[2] ? 1 : 2;
      if (block[axis] * 2 > MAX_BLOCK_DIM) break;
      block[axis] *= 2;
    }
    block[0] = halved;
    shallower.add(widest);
  }
  const wider = widenUntilFewEnoughChunks(shapeZyx, levels);
  return {
    blockSizeZyx: levels.map((l) => l.blockZyx),
    shallowerLevels: [...shallower].sort((a, b) => a - b),
    widerLevels: wider,
  };
}

/**
 * Blocks across the plane doubled (along the axis with more chunks, within MAX_BLOCK_DIM and
 * MAX_CHUNK_VOXELS), the level with the most chunks first, until the view's chunks are within
 * MAX_VIEW_CHUNKS: 16³ or the shallower blocks above on a stack of many GiB are more chunks than
 * HDF5's bookkeeping fits in a writer's heap. Slab sizes do not change (a slab is as deep as
 * before). Returns the levels widened; where none can grow the writer's refusal stands.
 */
function widenUntilFewEnoughChunks(shapeZyx: Zyx, levels: LevelSpec[]): number[] {
  const wider = new Set<number>();
  while (viewChunkWeight(shapeZyx, levels) > MAX_VIEW_CHUNKS) {
    const growable = levels
      .map((level, i) => ({ i, level, axis: axisToWiden(shapeZyx, level) }))
      .filter(({ axis }) => axis !== undefined)
      .sort((a, b) => viewChunkWeight(shapeZyx, [b.level]) - viewChunkWeight(shapeZyx, [a.level]))[0];
    if (!growable) break;
    growable.level.blockZyx[growable.axis!] *= 2;
    wider.add(growable.i);
  }
  return [...wider].sort((a, b) => a - b);
}

/**
 * The axis (y or x) along which a level has the most chunks, where doubling the block still fits
 * MAX_BLOCK_DIM and MAX_CHUNK_VOXELS and lowers the count (a block already as wide as the level
 * only adds padding); undefined where neither does.
 */
function axisToWiden(shapeZyx: Zyx, { factorsZyx, blockZyx }: LevelSpec): 1 | 2 | undefined {
  const shape = levelShape(shapeZyx, factorsZyx);
  const across = (axis: 1 | 2) => Math.ceil(shape[axis] / blockZyx[axis]);
  const fits = (axis: 1 | 2) =>
    across(axis) > 1 &&
    blockZyx[axis] * 2 <= MAX_BLOCK_DIM &&
    blockZyx[0] * blockZyx[1] * blockZyx[2] * 2 <= MAX_CHUNK_VOXELS;
  const [first, second] = across(1) >= across(2) ? ([1, 2] as const) : ([2, 1] as const);
  if (fits(first)) return first;
  return fits(second) ? second : undefined;
}

/** The level whose chunk-deep slab is largest among those more than one plane deep; -1 if none. */
function largestSlab(shapeZyx: Zyx, levels: readonly LevelSpec[]): number {
  let best = -1;
  let bestBytes = 0;
  levels.forEach(({ factorsZyx, blockZyx }, i) => {
    const [nz, ny, nx] = levelShape(shapeZyx, factorsZyx);
    const depth = Math.min(blockZyx[0], nz);
    if (depth > 1 && depth * ny * nx > bestBytes) {
      best = i;
      bestBytes = depth * ny * nx;
    }
  });
  return best;
}
