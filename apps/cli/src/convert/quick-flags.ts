import { PATTERN_FIELDS, type ManifestParts } from '@bdv-cluster/contract';
import { MAX_GZIP_LEVEL } from '@bdv-cluster/bdv/vocabulary';
import { CliError } from '../cli-error.js';
import type { ProgressMode } from '../progress/progress-mode.js';
import { parseInteger, parseLevelsOrAuto, parseList, parseNumber, parseTriple } from './option-lists.js';

export interface ConvertFlags {
  output?: string;
  manifest?: string;
  pattern?: string;
  name?: string;
  compression?: 'none' | 'gzip' | 'lzf';
  compressionLevel?: string;
  subsampling?: string;
  block?: string;
  layout?: 'single' | 'partitioned';
  voxelSize?: string;
  unit?: string;
  calibration?: string;
  exposureTime?: string;
  exposureUnits?: string;
  camera?: string;
  format?: 'npy' | 'raw' | 'tiff';
  shape?: string;
  dtype?: 'uint16' | 'uint8';
  byteOrder?: 'little' | 'big';
  headerBytes?: string;
  illuminations?: string;
  channels?: string;
  tiles?: string;
  angles?: string;
  timepoints?: string;
  labels: string[];
  microscope?: string;
  microscopeVersion?: string;
  user?: string;
  overwrite?: boolean;
  resume?: boolean;
  jobs?: string;
  progress: ProgressMode;
  json?: boolean;
}

/**
 * Flags that only the quick form takes: a manifest says these itself, and with --manifest they
 * would be dropped without a word (a --unit nm that still writes um).
 */
export const QUICK_ONLY: (keyof ConvertFlags)[] = [
  'pattern',
  'name',
  'compression',
  'compressionLevel',
  'subsampling',
  'block',
  'layout',
  'voxelSize',
  'unit',
  'calibration',
  'exposureTime',
  'exposureUnits',
  'camera',
  'format',
  'shape',
  'dtype',
  'byteOrder',
  'headerBytes',
  'illuminations',
  'channels',
  'tiles',
  'angles',
  'timepoints',
  'labels',
  'microscope',
  'microscopeVersion',
  'user',
];

/** The quick-form flags `f` sets, as typed on the command line (`--voxel-size`). */
export function quickFlagsSet(f: ConvertFlags): string[] {
  return QUICK_ONLY.filter((k) => (k === 'labels' ? f.labels.length > 0 : f[k] !== undefined)).map(
    (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  );
}

/** The quick form's flags as the parts of a manifest (unset flags leave the schema's defaults). */
export function quickOptionsOf(f: ConvertFlags, name: string): ManifestParts & { pattern?: string } {
  return dropUndefined({
    pattern: f.pattern,
    dataset: { name, ...setupOf(f), ...storageOf(f) },
    viewDefaults: {
      voxelSizeXyz: f.voxelSize ? parseTriple(f.voxelSize, '--voxel-size') : undefined,
      voxelUnits: f.unit,
      calibrationXyz: f.calibration ? parseTriple(f.calibration, '--calibration') : undefined,
      exposureTime: f.exposureTime === undefined ? undefined : parseNumber(f.exposureTime, '--exposure-time'),
      exposureUnits: f.exposureUnits,
      cameraName: f.camera,
    },
    sourceOptions: {
      format: f.format,
      shapeZyx: f.shape ? parseTriple(f.shape, '--shape', true) : undefined,
      dtype: f.dtype,
      byteOrder: f.byteOrder,
      headerBytes: f.headerBytes === undefined ? undefined : parseInteger(f.headerBytes, '--header-bytes'),
    },
  });
}

function setupOf(f: ConvertFlags) {
  const int = (v: string | undefined, option: string) =>
    v === undefined ? undefined : parseInteger(v, option, 1);
  const setup = Object.fromEntries(
    (['illuminations', 'channels', 'tiles', 'angles'] as const).flatMap((k) =>
      f[k] ? [[k, int(f[k], `--${k}`)]] : [],
    ),
  );
  return { setup, timepoints: int(f.timepoints, '--timepoints') };
}

function storageOf(f: ConvertFlags) {
  return {
    compression: f.compression,
    compressionLevel:
      f.compressionLevel === undefined
        ? undefined
        : parseInteger(f.compressionLevel, '--compression-level', 0, MAX_GZIP_LEVEL),
    ...pyramidOf(f),
    layout: f.layout,
    attributeLabels: parseLabels(f.labels),
    microscope:
      f.microscope || f.microscopeVersion || f.user
        ? { name: f.microscope, version: f.microscopeVersion, user: f.user }
        : undefined,
  };
}

/**
 * No factors given: BigDataViewer's proposal for the first view ("auto", unlike a manifest or the
 * HTTP API, which keep npy2bdv's single level), its chunk shapes too unless --block says. Factors
 * given: the chunk shape as given or npy2bdv's.
 */
function pyramidOf(f: ConvertFlags) {
  const subsamplingZyx = f.subsampling ? parseLevelsOrAuto(f.subsampling, '--subsampling') : 'auto';
  const blockSizeZyx = f.block
    ? parseLevelsOrAuto(f.block, '--block')
    : subsamplingZyx === 'auto'
      ? 'auto'
      : undefined;
  assertBlockCount(subsamplingZyx, blockSizeZyx);
  return { subsamplingZyx, blockSizeZyx };
}

/**
 * One chunk shape serves every level, or one per level (extras are reported unused). Between the
 * two, npy2bdv (and a manifest) silently use the first for every level: a user who typed two for
 * three levels meant something else.
 */
function assertBlockCount(
  subsamplingZyx: readonly unknown[] | 'auto',
  blockSizeZyx: readonly unknown[] | 'auto' | undefined,
): void {
  if (subsamplingZyx === 'auto' || !Array.isArray(blockSizeZyx)) return;
  const levels = subsamplingZyx.length;
  const blocks = blockSizeZyx.length;
  if (blocks > 1 && blocks < levels)
    throw new CliError(
      `--block: ${blocks} chunk shapes for ${levels} levels of --subsampling; give one (it serves every level) or one per level`,
    );
}

/** The setup attributes a dataset's XML labels (the pattern's fields but time). */
const LABELLED: readonly string[] = PATTERN_FIELDS.filter((field) => field !== 'time');

function parseLabels(entries: string[]): Record<string, string[]> | undefined {
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((entry) => {
      const [attribute, list] = entry.split('=', 2);
      if (!attribute || list === undefined)
        throw new CliError(`--labels: expected attribute=a,b,... ; got "${entry}"`);
      if (!LABELLED.includes(attribute))
        throw new CliError(
          `--labels ${entry}: "${attribute}" is not an attribute; labels are given to ${LABELLED.join(', ')}`,
        );
      return [attribute, parseList(list)];
    }),
  );
}

/** Unset flags must not override the schema's defaults. */
function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
