import type { Zyx } from '../model/pyramid-spec.js';

/** The axis a maximum projection collapses: `z` gives the familiar top view (y rows, x columns). */
export type ProjectionAxis = 'z' | 'y' | 'x';
export const PROJECTION_AXES: readonly ProjectionAxis[] = ['z', 'y', 'x'];

/** Longest side of a preview, in pixels: the default, and the most a caller may ask for. */
export const DEFAULT_PREVIEW_SIZE = 512;
export const MAX_PREVIEW_SIZE = 2048;

/** Height and width of the projection of a (z,y,x) stack along `axis`. */
export function projectedSize(shapeZyx: Zyx, axis: ProjectionAxis): [height: number, width: number] {
  const [z, y, x] = shapeZyx;
  return axis === 'z' ? [y, x] : axis === 'y' ? [z, x] : [z, y];
}

/** Which level to read, and by how much its projection is still shrunk (max of k x k blocks). */
export interface LevelChoice {
  level: number;
  /** 1 when the level's projection fits already; otherwise the integer factor that makes it fit. */
  shrink: number;
}

/**
 * The finest level whose projection fits in `maxSize` pixels on its longest side — the least
 * data that gives a full-size preview; coarser levels would only lose detail, finer ones cost
 * reading more. When none fits (a one-level pyramid of a large stack), the coarsest level is read
 * and its projection shrunk by the smallest integer factor that fits. `shapes` are the levels'
 * (z,y,x) shapes, finest first.
 */
export function chooseLevel(shapes: readonly Zyx[], axis: ProjectionAxis, maxSize: number): LevelChoice {
  if (shapes.length === 0) throw new RangeError('no levels to choose from');
  if (!(Number.isInteger(maxSize) && maxSize >= 1))
    throw new RangeError(`maxSize must be >= 1, got ${maxSize}`);
  for (let level = 0; level < shapes.length; level++) {
    if (Math.max(...projectedSize(shapes[level]!, axis)) <= maxSize) return { level, shrink: 1 };
  }
  const level = shapes.length - 1;
  const longest = Math.max(...projectedSize(shapes[level]!, axis));
  return { level, shrink: Math.ceil(longest / maxSize) };
}
