import { describeProblems, fieldProblems, ViewMetadataSpec } from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';
import { parseLevelsOrAuto, parseTriple } from '../convert/option-lists.js';

/** `bdv batch`'s own options (besides --api, --token, --wait, --progress). */
export interface BatchOptions {
  pattern: string;
  name: string;
  compression?: string;
  subsampling?: string;
  layout?: string;
  voxelSize?: string;
  unit?: string;
  dryRun?: boolean;
}

/** The option behind a field of `viewDefaults`. */
const OPTION_OF: Record<string, string> = { voxelSizeXyz: '--voxel-size', voxelUnits: '--unit' };

/**
 * What every view of the batch shares, checked here as `bdv convert` checks it (the API would
 * say `viewDefaults.voxelSizeXyz[0]`); undefined when no option sets any.
 */
function viewDefaultsOf(flags: BatchOptions) {
  if (flags.voxelSize === undefined && flags.unit === undefined) return undefined;
  const defaults = {
    voxelSizeXyz: flags.voxelSize === undefined ? undefined : parseTriple(flags.voxelSize, '--voxel-size'),
    voxelUnits: flags.unit,
  };
  const parsed = ViewMetadataSpec.safeParse(defaults);
  if (!parsed.success) {
    // A problem of every axis (`0,0,1`) is said once, of the option.
    const lines = fieldProblems(parsed.error).map((p) =>
      describeProblems([{ field: OPTION_OF[p.field.replace(/\[.*$/, '')] ?? p.field, message: p.message }]),
    );
    throw new CliError([...new Set(lines)].join('; '));
  }
  return JSON.parse(JSON.stringify(defaults)) as Record<string, unknown>;
}

/** POST /v1/batches from the command line; unset flags leave the API's defaults. */
export function batchBody(source: string, flags: BatchOptions) {
  const dataset = {
    name: flags.name,
    compression: flags.compression,
    layout: flags.layout,
    subsamplingZyx: flags.subsampling ? parseLevelsOrAuto(flags.subsampling, '--subsampling') : undefined,
  };
  const viewDefaults = viewDefaultsOf(flags);
  return {
    source: source.endsWith('/') ? source : `${source}/`,
    pattern: flags.pattern,
    dataset: JSON.parse(JSON.stringify(dataset)) as Record<string, unknown>,
    ...(viewDefaults ? { viewDefaults } : {}),
    dryRun: flags.dryRun ?? false,
  };
}
