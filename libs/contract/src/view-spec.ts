import { BYTE_ORDERS, SAMPLE_TYPES, STACK_FORMATS } from '@bdv-cluster/stacks';
import { z } from 'zod';
import type { DatasetSpec } from './dataset-spec.js';

const Index = z.number().int().min(0);
const Finite = z.number().refine(Number.isFinite, 'must be finite');
const Xyz = z.tuple([Finite, Finite, Finite]);
const PositiveInt = z.number().int().min(1);

/** How a source's bytes are laid out: everything of a `source` but its URI. */
export const SOURCE_OPTION_FIELDS = {
  format: z.enum(STACK_FORMATS).optional(),
  shapeZyx: z.tuple([PositiveInt, PositiveInt, PositiveInt]).optional(),
  dtype: z.enum(SAMPLE_TYPES).optional(),
  byteOrder: z.enum(BYTE_ORDERS).optional(),
  headerBytes: z.number().int().min(0).optional(),
};

function requireRawShape(s: { format?: string; shapeZyx?: unknown }, ctx: z.RefinementCtx): void {
  if (s.format === 'raw' && !s.shapeZyx) {
    ctx.addIssue({ code: 'custom', path: ['shapeZyx'], message: 'is required for raw sources' });
  }
}

export const SourceOptions = z.object(SOURCE_OPTION_FIELDS).strict().superRefine(requireRawShape);
export type SourceOptions = z.output<typeof SourceOptions>;

export const SourceSpec = z
  .object({ uri: z.string().min(1), ...SOURCE_OPTION_FIELDS })
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

export const ViewSpec = z
  .object({
    time: Index.default(0),
    illumination: Index.default(0),
    channel: Index.default(0),
    tile: Index.default(0),
    angle: Index.default(0),
    source: SourceSpec,
    voxelSizeXyz: Xyz.optional(),
    voxelUnits: z.string().min(1).optional(),
    calibrationXyz: Xyz.optional(),
    affine: z.array(Finite).length(12, 'must be 12 numbers (3x4 row-major)').optional(),
    affineName: z.string().min(1).optional(),
    exposureTime: Finite.optional(),
    exposureUnits: z.string().min(1).optional(),
    cameraName: z.string().min(1).optional(),
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

/** Indices a dataset cannot hold; empty when the view fits. */
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
  }
  return problems;
}
