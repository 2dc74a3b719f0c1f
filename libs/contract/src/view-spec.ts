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
  MAX_VOXEL_SIZE,
  MIN_VOXEL_SIZE,
} from './limits.js';

const Index = boundedIndex(MAX_SETUP_COUNT - 1);
const TimeIndex = boundedIndex(MAX_TIMEPOINTS - 1);
/** A metadata number: finite (zod numbers are) and at most 1e12 in magnitude. */
const Metadata = z.number().min(-MAX_METADATA_MAGNITUDE).max(MAX_METADATA_MAGNITUDE);
/** Voxel sizes are lengths, of a size some unit gives a voxel (the bounds show in the OpenAPI). */
const exponent = (n: number) => n.toExponential().replace('+', ''); // 1e9, not 1000000000
const VOXEL_SIZES = `${exponent(MIN_VOXEL_SIZE)}..${exponent(MAX_VOXEL_SIZE)} in any unit`;
const Length = z
  .number()
  .min(MIN_VOXEL_SIZE, `must be ${VOXEL_SIZES}`)
  .max(MAX_VOXEL_SIZE, `must be ${VOXEL_SIZES}`)
  .describe(`a voxel edge, ${VOXEL_SIZES}`);
/**
 * A calibration may mirror an axis, not collapse it: at least MIN_VOXEL_SIZE in magnitude (a
 * subnormal such as 1e-320 is no scale BDV can invert).
 */
const Scale = Metadata.refine(
  (v) => Math.abs(v) >= MIN_VOXEL_SIZE,
  `must be ${exponent(MIN_VOXEL_SIZE)}..${exponent(MAX_METADATA_MAGNITUDE)} in magnitude (negative mirrors the axis)`,
);
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
type ViewIndices = Pick<ViewSpec, 'time' | 'illumination' | 'channel' | 'tile' | 'angle'>;

/** The numbers of a key of the view key's shape, leading zeros or not (`t00-…` too). */
function looseViewKey(key: string): ViewIndices | undefined {
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

/**
 * A view key's numbers, only for a key written as viewKeyOf writes it: views are stored, queued,
 * ordered (libs/pipeline's ViewKeyOrder) and found under that spelling alone, so `t00-…` (or a
 * number too long to be exact) names no view — taken, it had queued t0's view under an object
 * named t00 while retry and preview of t00 found nothing.
 */
export function parseViewKey(key: string): ViewIndices | undefined {
  const view = looseViewKey(key);
  return view && viewKeyOf(view) === key ? view : undefined;
}

/**
 * Why `key` is no view key, said to whoever wrote it (with the spelling to use where the numbers
 * are right but written otherwise); undefined for a view key.
 */
export function viewKeyProblem(key: string): string | undefined {
  if (parseViewKey(key)) return undefined;
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  const view = looseViewKey(key);
  const exact = view && Object.values(view).every((n) => Number.isSafeInteger(n));
  if (view && exact) return `view key ${shown}: write it ${viewKeyOf(view)}`;
  if (view) return `view key ${shown}: its numbers are too large to name a view`;
  return `view key ${shown}: not t<time>-i<illumination>-c<channel>-s<tile>-a<angle> (e.g. t0-i0-c0-s0-a0)`;
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
        message: `${value} is out of range: the dataset has ${count} ${count === 1 ? field : plural} (0..${count - 1})`,
      });
    }
  }
  if (dataset.timepoints !== undefined && view.time >= dataset.timepoints) {
    problems.push({
      field: fieldPrefix + 'time',
      message: `${view.time} is out of range: the dataset has ${dataset.timepoints} timepoint${dataset.timepoints === 1 ? '' : 's'}`,
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
