import { z } from 'zod';
import { BatchDatasetSpec } from './dataset-spec.js';
import { UriText } from './fields.js';
import { FilenamePatternString } from './filename-pattern.js';
import { SourceOptions, ViewMetadataSpec } from './view-spec.js';

/**
 * POST /v1/batches: every object under `source` whose name (relative to it) matches `pattern`
 * becomes a view. Setup counts and timepoints are inferred from the matches unless given.
 */
export const BatchSpec = z
  .object({
    source: UriText.regex(
      /^(s3|file):\/\/.+\/$/,
      'must be s3://bucket/prefix/ or file:///folder/ (ending in /)',
    ),
    pattern: FilenamePatternString,
    /** A DatasetSpec whose setup counts and timepoints may be left out (then inferred). */
    dataset: BatchDatasetSpec,
    /** Source fields every view shares (format, raw shape, dtype, byte order, header bytes). */
    sourceOptions: SourceOptions.optional(),
    /** Metadata every view shares (voxel size, calibration, camera). */
    viewDefaults: ViewMetadataSpec.optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();
export type BatchSpec = z.output<typeof BatchSpec>;
