import { affineProblem, BdvError, resolveLevels, setupCount, viewBufferProblem } from '@bdv-cluster/bdv';
import { pyramidFor } from './pyramid-choice.js';
import { BYTE_ORDERS, SAMPLE_TYPES, STACK_FORMATS } from '@bdv-cluster/stacks';
import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec.js';
import { boundedCount, boundedIndex, Text, UriText } from './fields.js';
import {
  MAX_HEADER_BYTES,
  MAX_METADATA_MAGNITUDE,
  MAX_SETUP_COUNT,
  MAX_STACK_DIM,
  MAX_STACK_VOXELS,
  MAX_TIMEPOINTS,
  MAX_VIEWS,
} from './limits.js';

const Index = boundedIndex(MAX_SETUP_COUNT - 1);
const TimeIndex = boundedIndex(MAX_TIMEPOINTS - 1);
/** A metadata number: finite (zod numbers are) and at most 1e12 in magnitude. */
const Metadata = z.number().min(-MAX_METADATA_MAGNITUDE).max(MAX_METADATA_MAGNITUDE);
/** Voxel sizes are lengths. */
const Length = z.number().gt(0).max(MAX_METADATA_MAGNITUDE);
/** A calibration may mirror an axis, not collapse it. */
const Scale = Metadata.refine((v) => v !== 0, 'must not be 0');
const StackDim = boundedCount(MAX_STACK_DIM);

/** How a source's bytes are laid out: everything of a `source` but its URI. */
export const SOURCE_OPTION_FIELDS = {
  format: z.enum(STACK_FORMATS).optional(),
  shapeZyx: z
    .tuple([StackDim, StackDim, StackDim])
    .refine(
      ([z, y, x]) => Math.max(z, y, x) > MAX_STACK_DIM || z * y * x <= MAX_STACK_VOXELS,
      `a stack may hold at most ${MAX_STACK_VOXELS} voxels`,
    )
    .optional(),
  dtype: z.enum(SAMPLE_TYPES).optional(),
  byteOrder: z.enum(BYTE_ORDERS).optional(),
  headerBytes: z.number().int().min(0).max(MAX_HEADER_BYTES).optional(),
};

function requireRawShape(s: { format?: string; shapeZyx?: unknown }, ctx: z.RefinementCtx): void {
  if (s.format === 'raw' && !s.shapeZyx) {
    ctx.addIssue({ code: 'custom', path: ['shapeZyx'], message: 'is required for raw sources' });
  }
}

export const SourceOptions = z.object(SOURCE_OPTION_FIELDS).strict().superRefine(requireRawShape);
export type SourceOptions = z.output<typeof SourceOptions>;

export const SourceSpec = z
  .object({ uri: UriText, ...SOURCE_OPTION_FIELDS })
  .strict()
  .superRefine(requireRawShape);

export type SourceSpec = z.output<typeof SourceSpec>;

/**
 * How a declared source is read (the options of libs/stacks' readers): what the declaration
 * demands of the file, and uint8 widened only when `dtype` says uint8.
 */
export function readOptionsOf(source: SourceSpec) {
  const { format, shapeZyx, dtype, byteOrder, headerBytes } = source;
  return { format, shapeZyx, dtype, byteOrder, headerBytes, allowUint8: dtype === 'uint8' };
}

/** Per-view metadata (npy2bdv's append_view arguments); also a batch's `viewDefaults`. */
export const VIEW_METADATA_FIELDS = {
  voxelSizeXyz: z.tuple([Length, Length, Length]).optional(),
  voxelUnits: Text.optional(),
  calibrationXyz: z.tuple([Scale, Scale, Scale]).optional(),
  affine: z
    .array(Metadata)
    .length(12, 'must be 12 numbers (3x4 row-major)')
    .superRefine((affine, ctx) => {
      const problem = affineProblem(affine);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  affineName: Text.optional(),
  exposureTime: z.number().min(0).max(MAX_METADATA_MAGNITUDE).optional(),
  exposureUnits: Text.optional(),
  cameraName: Text.optional(),
};

export const ViewMetadataSpec = z.object(VIEW_METADATA_FIELDS).strict();

export const ViewSpec = z
  .object({
    time: TimeIndex.default(0),
    illumination: Index.default(0),
    channel: Index.default(0),
    tile: Index.default(0),
    angle: Index.default(0),
    source: SourceSpec,
    ...VIEW_METADATA_FIELDS,
  })
  .strict();

export type ViewSpecInput = z.input<typeof ViewSpec>;
export type ViewSpec = z.output<typeof ViewSpec>;

/** Stable id of a view within a dataset: readable, URL-safe, unique per (time, setup attributes). */
export function viewKeyOf(v: Pick<ViewSpec, 'time' | 'illumination' | 'channel' | 'tile' | 'angle'>): string {
  return `t${v.time}-i${v.illumination}-c${v.channel}-s${v.tile}-a${v.angle}`;
}

const VIEW_KEY = /^t(\d+)-i(\d+)-c(\d+)-s(\d+)-a(\d+)$/;

export function parseViewKey(
  key: string,
): Pick<ViewSpec, 'time' | 'illumination' | 'channel' | 'tile' | 'angle'> | undefined {
  const m = VIEW_KEY.exec(key);
  if (!m) return undefined;
  const [time, illumination, channel, tile, angle] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return { time, illumination, channel, tile, angle };
}

export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Indices a dataset cannot hold, and a declared shape whose chunk-deep slabs (with the dataset's
 * blocks) pass a view's memory budget; empty when the view fits.
 */
export function viewRangeProblems(dataset: DatasetSpec, view: ViewSpec, fieldPrefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const limits: [keyof ViewSpec & string, number, string][] = [
    ['illumination', dataset.setup.illuminations, 'illuminations'],
    ['channel', dataset.setup.channels, 'channels'],
    ['tile', dataset.setup.tiles, 'tiles'],
    ['angle', dataset.setup.angles, 'angles'],
  ];
  for (const [field, count, plural] of limits) {
    const value = view[field] as number;
    if (value >= count) {
      problems.push({
        field: fieldPrefix + field,
        message: `${value} is out of range: the dataset has ${count} ${plural} (0..${count - 1})`,
      });
    }
  }
  if (dataset.timepoints !== undefined && view.time >= dataset.timepoints) {
    problems.push({
      field: fieldPrefix + 'time',
      message: `${view.time} is out of range: the dataset has ${dataset.timepoints} timepoints`,
    });
  } else if (dataset.timepoints === undefined) {
    // Without declared timepoints the XML lists time + 1 of them, every setup of each: a view
    // past MAX_VIEWS would leave a dataset that can never finalize (and no view is removable).
    const setups = setupCount(dataset.setup);
    if ((view.time + 1) * setups > MAX_VIEWS) {
      problems.push({
        field: fieldPrefix + 'time',
        message: `${view.time} is out of range: ${view.time + 1} timepoints x ${setups} setups would be more than ${MAX_VIEWS} views (at most time ${Math.floor(MAX_VIEWS / setups) - 1})`,
      });
    }
  }
  const shape = view.source.shapeZyx;
  if (shape) {
    // "auto": the levels this view would give the dataset if it were the first one written
    const levels = levelsIfValid(dataset, shape, view.voxelSizeXyz);
    const buffer = levels && viewBufferProblem(shape, levels);
    if (buffer) problems.push({ field: fieldPrefix + 'source.shapeZyx', message: buffer });
  }
  return problems;
}

/**
 * The levels this view's shape would be written with ("auto": as if it were the dataset's first
 * view), or undefined where the dataset's levels, the shape or the voxel size are invalid: a
 * manifest's view checks run even when those failed their own checks (zod runs the refinement
 * regardless), and that failure is reported on its own field — thrown from here (by
 * resolveLevels, or BigDataViewer's proposal for "auto") it ended the whole parse, safeParse too.
 */
function levelsIfValid(
  dataset: DatasetSpec,
  shape: number[],
  voxelSizeXyz: number[] | undefined,
): ReturnType<typeof resolveLevels> | undefined {
  try {
    const pyramid = pyramidFor(dataset, shape, voxelSizeXyz);
    return resolveLevels(pyramid.subsamplingZyx, pyramid.blockSizeZyx);
  } catch (error) {
    if (error instanceof BdvError) return undefined;
    throw error;
  }
}
