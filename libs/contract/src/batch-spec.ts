import { z } from 'zod';
import { FilenamePatternString } from './filename-pattern.js';
import { SourceOptions } from './view-spec.js';

/**
 * POST /v1/batches: every object under `source` whose name (relative to it) matches `pattern`
 * becomes a view. Setup counts and timepoints are inferred from the matches unless given.
 */
export const BatchSpec = z
  .object({
    source: z
      .string()
      .regex(/^(s3|file):\/\/.+\/$/, 'must be s3://bucket/prefix/ or file:///folder/ (ending in /)'),
    pattern: FilenamePatternString,
    /** A DatasetSpec whose setup counts and timepoints may be left out (then inferred). */
    dataset: z.record(z.string(), z.unknown()),
    /** Source fields every view shares (format, raw shape, dtype, byte order, header bytes). */
    sourceOptions: SourceOptions.optional(),
    /** Metadata every view shares (voxel size, calibration, camera). */
    viewDefaults: z.record(z.string(), z.unknown()).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();
export type BatchSpec = z.output<typeof BatchSpec>;
