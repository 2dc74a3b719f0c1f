import { blocksWithinViewBuffer, proposeMipmaps, type Zyx } from '@bdv-cluster/bdv';
import { AUTO, type DatasetSpec } from './dataset-spec.js';

/** A dataset's levels and chunk shapes once chosen (no "auto" left). */
export interface DatasetPyramid {
  subsamplingZyx: Zyx[];
  blockSizeZyx: Zyx[];
}

type PyramidFields = Pick<DatasetSpec, 'subsamplingZyx' | 'blockSizeZyx'>;

/** Which of the two pyramid fields ask for BigDataViewer's proposal. */
export function autoPyramidFields(spec: PyramidFields): ('subsamplingZyx' | 'blockSizeZyx')[] {
  return (['subsamplingZyx', 'blockSizeZyx'] as const).filter((f) => spec[f] === AUTO);
}

/**
 * A pyramid just chosen: where its blocks were "auto", the levels whose blocks were made shallower
 * (slabs within a view's memory) or wider (chunks within what a writer tracks).
 */
export interface ChosenPyramid extends DatasetPyramid {
  shallowerBlockLevels: number[];
  widerBlockLevels: number[];
}

/**
 * The pyramid for a stack of `shapeZyx` with `voxelSizeXyz` (default [1,1,1], as npy2bdv's):
 * the given levels/blocks, and BigDataViewer's proposal where the spec says "auto" — proposed
 * blocks made shallower where the view's chunk-deep slabs would not fit its memory bound
 * (blocksWithinViewBuffer), one per level. Given blocks stay as given: too deep, they are refused.
 */
export function pyramidFor(
  spec: PyramidFields,
  shapeZyx: readonly number[],
  voxelSizeXyz: readonly number[] = [1, 1, 1],
): ChosenPyramid {
  const proposal = autoPyramidFields(spec).length > 0 ? proposeMipmaps(shapeZyx, voxelSizeXyz) : undefined;
  const subsamplingZyx =
    spec.subsamplingZyx === AUTO ? proposal!.subsamplingZyx : (spec.subsamplingZyx as Zyx[]);
  if (spec.blockSizeZyx !== AUTO)
    return {
      subsamplingZyx,
      blockSizeZyx: spec.blockSizeZyx as Zyx[],
      shallowerBlockLevels: [],
      widerBlockLevels: [],
    };
  const fitted = blocksWithinViewBuffer(shapeZyx as Zyx, subsamplingZyx, proposal!.blockSizeZyx);
  return {
    subsamplingZyx,
    blockSizeZyx: fitted.blockSizeZyx,
    shallowerBlockLevels: fitted.shallowerLevels,
    widerBlockLevels: fitted.widerLevels,
  };
}

/**
 * The pyramid of a dataset whose "auto" fields were resolved; an unresolved one is a programming
 * error (a writer resolves it from the first view before anything is written).
 */
export function chosenPyramid(spec: PyramidFields): DatasetPyramid {
  const pending = autoPyramidFields(spec);
  if (pending.length > 0) throw new Error(`${pending.join(', ')}: "auto" is not resolved yet`);
  return spec as DatasetPyramid;
}
