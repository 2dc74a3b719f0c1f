import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Manifest, describeProblems, fieldProblems, type ManifestInput } from '@bdv-cluster/contract';
import { Command, Option } from 'commander';
import { CliError } from '../cli-error.js';
import { parseInteger, parseLevels, parseList, parseTriple } from '../convert/option-lists.js';
import { quickManifest } from '../convert/quick-manifest.js';
import { runConversion, type ConversionResult } from '../convert/run-conversion.js';
import { progressFor } from '../progress/progress-reporter.js';

interface ConvertFlags {
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
  jobs?: string;
  progress: 'auto' | 'bar' | 'lines' | 'none';
  json?: boolean;
}

const QUICK_ONLY: (keyof ConvertFlags)[] = [
  'pattern',
  'compression',
  'subsampling',
  'block',
  'layout',
  'voxelSize',
  'shape',
  'format',
];

export function convertCommand(): Command {
  return new Command('convert')
    .description('convert local stacks (.npy, raw, TIFF) into a BDV .h5 + .xml, in this process')
    .argument('[inputs...]', 'stack files or folders (quick form); omit with --manifest')
    .option('-o, --output <file.h5>', 'the .h5 to write; the .xml goes beside it')
    .option('-m, --manifest <file.json>', '{dataset, views} as the HTTP API takes them')
    .option('-p, --pattern <pattern>', "file names with view indices, e.g. 't{time}_c{channel}_s{tile}.npy'")
    .option('--name <name>', 'dataset name (default: the output file name)')
    .addOption(new Option('--compression <codec>', 'HDF5 compression').choices(['none', 'gzip', 'lzf']))
    .option('--compression-level <n>', 'gzip level 0-9 (default 4)')
    .option('--subsampling <levels>', 'pyramid factors z,y,x per level, e.g. 1,1,1:2,4,4')
    .option('--block <levels>', 'chunk shape z,y,x per level (one serves all), e.g. 4,256,256')
    .addOption(
      new Option('--layout <layout>', 'one file, or one file per view + master').choices([
        'single',
        'partitioned',
      ]),
    )
    .option('--voxel-size <x,y,z>', 'voxel size (metadata, as npy2bdv)')
    .option('--unit <unit>', 'voxel size unit, e.g. um')
    .option('--calibration <x,y,z>', 'calibration scale put into the registration')
    .option('--exposure-time <t>', 'camera exposure time')
    .option('--exposure-units <u>', 'exposure time unit')
    .option('--camera <name>', 'camera name')
    .addOption(
      new Option('--format <format>', 'input format (default: from the extension)').choices([
        'npy',
        'raw',
        'tiff',
      ]),
    )
    .option('--shape <z,y,x>', 'stack shape (required for raw input)')
    .addOption(
      new Option('--dtype <type>', 'input samples; uint8 is widened to uint16').choices(['uint16', 'uint8']),
    )
    .addOption(new Option('--byte-order <order>', 'raw input byte order').choices(['little', 'big']))
    .option('--header-bytes <n>', 'raw input: bytes to skip before the samples')
    .option('--illuminations <n>', 'number of illuminations (default: inferred)')
    .option('--channels <n>', 'number of channels (default: inferred)')
    .option('--tiles <n>', 'number of tiles (default: inferred)')
    .option('--angles <n>', 'number of angles (default: inferred)')
    .option('--timepoints <n>', 'number of timepoints (default: inferred)')
    .option(
      '--labels <attr=a,b,...>',
      'attribute labels, e.g. channel=488,561 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--microscope <name>', 'microscope name for the XML')
    .option('--microscope-version <v>', 'microscope version for the XML')
    .option('--user <name>', 'user name for the XML')
    .option('--overwrite', 'replace an existing output file')
    .option('-j, --jobs <n>', 'views written at once on worker threads (needs --layout partitioned)', '1')
    .addOption(
      new Option('--progress <mode>', 'progress display')
        .choices(['auto', 'bar', 'lines', 'none'])
        .default('auto'),
    )
    .option('--json', 'print the result as JSON')
    .action(async (inputs: string[], flags: ConvertFlags) => {
      const { manifest, baseDir, output } = buildManifest(inputs, flags);
      const parsed = Manifest.safeParse(manifest);
      if (!parsed.success)
        throw new CliError(`invalid manifest: ${describeProblems(fieldProblems(parsed.error))}`);
      const result = await runConversion(
        {
          manifest: parsed.data,
          output,
          overwrite: flags.overwrite ?? false,
          baseDir,
          jobs: parseInteger(flags.jobs ?? '1', '--jobs', 1),
        },
        progressFor(flags.json ? 'none' : flags.progress),
      );
      printResult(result, flags.json ?? false);
    });
}

function buildManifest(
  inputs: string[],
  f: ConvertFlags,
): { manifest: ManifestInput; baseDir: string; output: string } {
  if (f.manifest) {
    if (inputs.length > 0) throw new CliError('give either --manifest or input files, not both');
    const used = QUICK_ONLY.filter((k) => f[k] !== undefined);
    if (used.length > 0)
      throw new CliError(`--${used[0]} applies to the quick form; with --manifest, put it in the manifest`);
    let manifest: ManifestInput;
    try {
      manifest = JSON.parse(readFileSync(f.manifest, 'utf8')) as ManifestInput;
    } catch (error) {
      const reason =
        (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      throw new CliError(`${f.manifest}: ${reason}`);
    }
    const name = (manifest as { dataset?: { name?: unknown } }).dataset?.name;
    const output = f.output ?? (typeof name === 'string' ? `${name}.h5` : undefined);
    if (!output) throw new CliError('--output is required (the manifest has no dataset.name)');
    return { manifest, baseDir: dirname(resolve(f.manifest)), output: resolve(output) };
  }
  if (inputs.length === 0)
    throw new CliError('give input files or folders, or --manifest (see bdv convert --help)');
  if (!f.output) throw new CliError('--output <file.h5> is required');
  const int = (v: string | undefined, option: string) =>
    v === undefined ? undefined : parseInteger(v, option, 1);
  const setup = Object.fromEntries(
    (['illuminations', 'channels', 'tiles', 'angles'] as const).flatMap((k) =>
      f[k] ? [[k, int(f[k], `--${k}`)]] : [],
    ),
  );
  const manifest = quickManifest(inputs, {
    name: f.name ?? basename(f.output).replace(/\.h5$/i, ''),
    pattern: f.pattern,
    setup,
    timepoints: int(f.timepoints, '--timepoints'),
    dataset: {
      compression: f.compression,
      compressionLevel:
        f.compressionLevel === undefined
          ? undefined
          : parseInteger(f.compressionLevel, '--compression-level'),
      subsamplingZyx: f.subsampling ? parseLevels(f.subsampling, '--subsampling') : undefined,
      blockSizeZyx: f.block ? parseLevels(f.block, '--block') : undefined,
      layout: f.layout,
      attributeLabels: parseLabels(f.labels),
      microscope:
        f.microscope || f.microscopeVersion || f.user
          ? { name: f.microscope, version: f.microscopeVersion, user: f.user }
          : undefined,
    },
    view: {
      voxelSizeXyz: f.voxelSize ? parseTriple(f.voxelSize, '--voxel-size') : undefined,
      voxelUnits: f.unit,
      calibrationXyz: f.calibration ? parseTriple(f.calibration, '--calibration') : undefined,
      exposureTime: f.exposureTime === undefined ? undefined : Number(f.exposureTime),
      exposureUnits: f.exposureUnits,
      cameraName: f.camera,
    },
    source: {
      format: f.format,
      shapeZyx: f.shape ? parseTriple(f.shape, '--shape', true) : undefined,
      dtype: f.dtype,
      byteOrder: f.byteOrder,
      headerBytes: f.headerBytes === undefined ? undefined : parseInteger(f.headerBytes, '--header-bytes'),
    },
  });
  return { manifest: dropUndefined(manifest), baseDir: process.cwd(), output: resolve(f.output) };
}

function parseLabels(entries: string[]): Record<string, string[]> | undefined {
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((entry) => {
      const [attribute, list] = entry.split('=', 2);
      if (!attribute || list === undefined)
        throw new CliError(`--labels: expected attribute=a,b,... ; got "${entry}"`);
      return [attribute, parseList(list)];
    }),
  );
}

/** Unset flags must not override the schema's defaults. */
function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function printResult(r: ConversionResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const mb = r.bytes / 1e6;
  process.stdout.write(
    [
      `wrote ${r.views} view(s), ${mb.toFixed(1)} MB in ${r.seconds.toFixed(2)} s (${(mb / Math.max(r.seconds, 1e-3)).toFixed(0)} MB/s)` +
        (r.missingViews > 0 ? `, ${r.missingViews} missing view(s) listed in the XML` : ''),
      `  HDF5: ${r.h5}`,
      `  XML:  ${r.xml}`,
      '',
    ].join('\n'),
  );
}
