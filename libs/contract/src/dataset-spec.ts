import {
  COMPRESSION_NAMES,
  DEFAULT_BLOCK_ZYX,
  DEFAULT_SUBSAMPLING_ZYX,
  LAYOUTS,
  MAX_GZIP_LEVEL,
  pyramidOrderProblem,
  SINGLE_SETUP,
  type Layout,
} from '@bdv-cluster/bdv';
import { z } from 'zod';
import { boundedCount, OptionalText, Text } from './fields.js';
import { NotifySpec } from './notify-spec.js';
import {
  MAX_BLOCK_DEPTH,
  MAX_BLOCK_DIM,
  MAX_CHUNK_VOXELS,
  MAX_LEVELS,
  MAX_NAME_LENGTH,
  MAX_SETUP_COUNT,
  MAX_SETUPS,
  MAX_SUBSAMPLING_FACTOR,
  MAX_TIMEPOINTS,
  MAX_VIEWS,
} from './limits.js';

/**
 * Names become folder and file names: a safe alphabet (no path traversal, no spaces), no leading
 * `-` (a script's `rm -r $name` would take `-rf` for options) and not only dots (`.`, `..` are
 * folders already, `...` hides from ls).
 */
export const SafeName = z
  .string()
  .max(MAX_NAME_LENGTH)
  .regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ -')
  .refine((s) => !s.startsWith('-'), 'must not start with - (scripts would read it as an option)')
  .refine((s) => !/^\.+$/.test(s), 'must not be only dots')
  .describe(
    'Becomes the output folder and file names: 1-128 characters of A-Z a-z 0-9 . _ -, not starting with - and not only dots; unique ignoring letter case',
  );

const Count = boundedCount(MAX_SETUP_COUNT);
const Factor = boundedCount(MAX_SUBSAMPLING_FACTOR);
export const Timepoints = boundedCount(MAX_TIMEPOINTS);

/** One level's subsampling factors z,y,x. */
const FactorsZyx = z.tuple([Factor, Factor, Factor]);
/** One level's chunk shape z,y,x: every slab is whole chunks deep, so z is the smallest cap. */
const BlockZyx = z
  .tuple([boundedCount(MAX_BLOCK_DEPTH), boundedCount(MAX_BLOCK_DIM), boundedCount(MAX_BLOCK_DIM)])
  .refine(
    // judged only once each edge is within its cap (an edge over it is reported on its own)
    ([z, y, x]) =>
      z > MAX_BLOCK_DEPTH || y > MAX_BLOCK_DIM || x > MAX_BLOCK_DIM || z * y * x <= MAX_CHUNK_VOXELS,
    `a chunk may hold at most ${MAX_CHUNK_VOXELS} voxels (z*y*x)`,
  );

/** Level 0 full resolution, then factors that never shrink and change at every level. */
const SubsamplingZyx = z
  .array(FactorsZyx)
  .min(1)
  .max(MAX_LEVELS)
  .superRefine((levels, ctx) => {
    const problem = pyramidOrderProblem(levels);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.level], message: problem.message });
  });
const BlockSizeZyx = z.array(BlockZyx).min(1).max(MAX_LEVELS);

/**
 * "auto": the levels (or chunk shapes) BigDataViewer's exporter would propose for the stack's
 * shape and voxel size (libs/bdv proposeMipmaps; chunks made shallower where a view's slabs would
 * not fit its memory, blocksWithinViewBuffer), chosen once per dataset from its first view.
 */
export const AUTO = 'auto';
const Auto = z.literal(AUTO);

const SETUP_FIELDS = {
  illuminations: Count.default(1),
  channels: Count.default(1),
  tiles: Count.default(1),
  angles: Count.default(1),
};

export const SetupSpec = z.object(SETUP_FIELDS).strict();

const Labels = z.array(Text).max(MAX_SETUP_COUNT);

/** `generatedBy/microscope` of the XML (npy2bdv's write_xml arguments). */
export const MicroscopeSpec = z
  .object({ name: OptionalText, version: OptionalText, user: OptionalText })
  .partial()
  .strict();

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The layout of a dataset whose request names none. The cluster's: one file per view — its
 * writers compress in parallel and a crash or a paused writer touches one view's file
 * (docs/adr/009-cluster-default-layout.md). `bdv convert`'s: one self-contained file, as npy2bdv.
 */
export const CLUSTER_DEFAULT_LAYOUT: Layout = 'partitioned';
export const LOCAL_DEFAULT_LAYOUT: Layout = 'single';

/** The fields of a dataset body; `datasetSpecWith` adds the checks across fields. */
const DATASET_FIELDS = {
  name: SafeName,
  setup: SetupSpec.default(copy(SINGLE_SETUP)),
  timepoints: Timepoints.optional(),
  compression: z.enum(COMPRESSION_NAMES).default('none'),
  compressionLevel: z.number().int().min(0).max(MAX_GZIP_LEVEL).optional(),
  subsamplingZyx: z.union([SubsamplingZyx, Auto]).default(copy(DEFAULT_SUBSAMPLING_ZYX)),
  blockSizeZyx: z.union([BlockSizeZyx, Auto]).default(copy(DEFAULT_BLOCK_ZYX)),
  layout: z.enum(LAYOUTS).default(CLUSTER_DEFAULT_LAYOUT),
  attributeLabels: z
    .object({ illumination: Labels, channel: Labels, tile: Labels, angle: Labels })
    .partial()
    .strict()
    .optional(),
  microscope: MicroscopeSpec.optional(),
  /** Where to POST the dataset's status when it becomes complete or failed (cluster only). */
  notify: NotifySpec.optional(),
};

/** A dataset body (POST /v1/datasets); `layout` defaults to `defaultLayout`. */
const datasetSpecWith = (defaultLayout: Layout) =>
  z
    .object({ ...DATASET_FIELDS, layout: z.enum(LAYOUTS).default(defaultLayout) })
    .strict()
    .superRefine(checkAcrossFields);

/** The cluster's dataset body (the HTTP API, batches). */
export const DatasetSpec = datasetSpecWith(CLUSTER_DEFAULT_LAYOUT);
/** `bdv convert`'s dataset (a manifest's `dataset`): the same body, one file unless told. */
export const LocalDatasetSpec = datasetSpecWith(LOCAL_DEFAULT_LAYOUT);

export type DatasetSpecInput = z.input<typeof DatasetSpec>;
export type DatasetSpec = z.output<typeof DatasetSpec>;

type DatasetFields = z.output<z.ZodObject<typeof DATASET_FIELDS>>;

function checkAcrossFields(d: DatasetFields, ctx: z.RefinementCtx): void {
  if (d.compressionLevel !== undefined && d.compression !== 'gzip') {
    ctx.addIssue({
      code: 'custom',
      path: ['compressionLevel'],
      message: 'only applies to compression "gzip"',
    });
  }
  // products are judged only when their factors are within their own caps (else reported there)
  const counts = {
    illumination: d.setup.illuminations,
    channel: d.setup.channels,
    tile: d.setup.tiles,
    angle: d.setup.angles,
  };
  const countsInRange = Object.values(counts).every((n) => n <= MAX_SETUP_COUNT);
  const setups = d.setup.illuminations * d.setup.channels * d.setup.tiles * d.setup.angles;
  if (!countsInRange) {
    // each count over its cap is reported on its own field
  } else if (setups > MAX_SETUPS) {
    ctx.addIssue({
      code: 'custom',
      path: ['setup'],
      message: `${setups} setups (illuminations x channels x tiles x angles) is more than ${MAX_SETUPS}`,
    });
  } else if (
    d.timepoints !== undefined &&
    d.timepoints <= MAX_TIMEPOINTS &&
    d.timepoints * setups > MAX_VIEWS
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['timepoints'],
      message: `${d.timepoints} timepoints x ${setups} setups is more than ${MAX_VIEWS} views`,
    });
  }
  for (const [attribute, labels] of Object.entries(d.attributeLabels ?? {})) {
    const expected = counts[attribute as keyof typeof counts];
    if (labels && labels.length !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['attributeLabels', attribute],
        message: `needs ${expected} labels (one per ${attribute}), got ${labels.length}`,
      });
    }
  }
}

/**
 * A batch's dataset: a dataset body whose setup counts and timepoints may be left out, to be
 * inferred from the file names (checks across fields run once they are known, on the manifest).
 */
export const BatchDatasetSpec = z
  .object({
    ...DATASET_FIELDS,
    setup: z
      .object({
        illuminations: Count.optional(),
        channels: Count.optional(),
        tiles: Count.optional(),
        angles: Count.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** POST /v1/datasets/:id/finalize */
export const FinalizeSpec = z
  .object({
    timepoints: Timepoints.optional(),
    microscope: MicroscopeSpec.optional(),
    camera: Text.optional(),
  })
  .strict();
export type FinalizeSpec = z.output<typeof FinalizeSpec>;
