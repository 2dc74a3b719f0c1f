import { basename, dirname, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  Manifest,
  MAX_VIEW_BUFFER_BYTES,
  MAX_VIEW_CHUNKS,
  describeProblems,
  fieldProblems,
  type ManifestInput,
} from '@bdv-cluster/contract';
import { CliError } from '../cli-error.js';
import { humanBytes, MB } from '../progress/byte-units.js';
import { progressFor } from '../progress/progress-reporter.js';
import { watchInterrupts } from './interruption.js';
import { readManifestFile } from './manifest-file.js';
import { MAX_JOBS, parseInteger, parseTriple } from './option-lists.js';
import { quickFlagsSet, quickOptionsOf, type ConvertFlags } from './quick-flags.js';
import { quickFormProblems } from './quick-problems.js';
import { quickManifest, type FieldStart } from './quick-manifest.js';
import { runConversion, type ConversionResult } from './run-conversion.js';

/** `bdv convert`: the manifest (given, or built from files + pattern), checked, then converted. */
export async function convert(inputs: string[], flags: ConvertFlags): Promise<void> {
  const { manifest, baseDir, output } = buildManifest(inputs, flags);
  const parsed = Manifest.safeParse(manifest);
  if (!parsed.success) {
    const problems = fieldProblems(parsed.error);
    throw new CliError(
      flags.manifest
        ? `invalid manifest: ${describeProblems(problems)}`
        : `cannot convert these inputs: ${quickFormProblems(problems, viewFiles(manifest), flags.name === undefined ? datasetName(manifest) : undefined)}`,
    );
  }
  const interrupts = watchInterrupts();
  try {
    const result = await runConversion(
      {
        manifest: parsed.data,
        output,
        overwrite: flags.overwrite ?? false,
        resume: flags.resume ?? false,
        baseDir,
        jobs: jobsFor(flags, parsed.data),
        signal: interrupts.signal,
      },
      await progressFor(flags.json ? 'none' : flags.progress),
    );
    printResult(result, flags.json ?? false, flags.manifest !== undefined);
    if (!flags.json)
      process.stdout.write(
        layoutTip(
          result,
          parsed.data.dataset.compression,
          availableParallelism(),
          flags.manifest !== undefined,
        ) + calibrationTip(flags),
      );
  } finally {
    interrupts.dispose();
  }
}

/**
 * Worker threads: as given, else one per core for the partitioned layout (each partition file
 * compresses on its own core) and one for a single file (one HDF5 file is written by one thread).
 */
function jobsFor(flags: ConvertFlags, manifest: Manifest): number {
  if (flags.jobs !== undefined) return parseInteger(flags.jobs, '--jobs', 1, MAX_JOBS);
  if (manifest.dataset.layout !== 'partitioned') return 1;
  return Math.max(1, Math.min(availableParallelism(), manifest.views.length));
}

function datasetName(manifest: ManifestInput): string | undefined {
  const name = (manifest as { dataset?: { name?: unknown } }).dataset?.name;
  return typeof name === 'string' ? name : undefined;
}

/** The file of each view of a quick-form manifest, in order. */
function viewFiles(manifest: ManifestInput): string[] {
  const views = (manifest as { views?: { source?: { uri?: unknown } }[] }).views ?? [];
  return views.map((v, i) => (typeof v.source?.uri === 'string' ? v.source.uri : `views[${i}]`));
}

/**
 * Stacks in a folder given that --pattern does not match (a stray space, another case): said on
 * stderr before anything is written, so a dataset does not reach Fiji with a view silently dark.
 */
function noteSkipped(skipped: readonly string[], pattern: string | undefined): void {
  const shown = skipped.slice(0, 5).map((f) => `'${basename(f)}'`);
  process.stderr.write(
    `bdv: ${skipped.length} stack file(s) in the input folder(s) do not match --pattern '${pattern}' and are not converted: ${shown.join(', ')}${skipped.length > shown.length ? ', …' : ''}\n`,
  );
}

/**
 * Fields no file numbers 0 (Pos001, ch01): index 0 .. first-1 become missing views — in Fiji an
 * empty tile or channel — which is right only for a deliberate part of an acquisition. Said before
 * anything is written, with the pattern that counts from the first number instead.
 */
function noteNotFromZero(fields: readonly FieldStart[]): void {
  // Said in the names' numbers: with {tile-1} already, names from 2 need {tile-2}, not {tile-1}.
  for (const { field, first, firstInNames } of fields)
    process.stderr.write(
      `bdv: no file has ${field} 0 (the first is ${first}): ${field} ${first === 1 ? '0 is' : `0-${first - 1} are`} ` +
        `listed as missing views; if the names count from ${firstInNames}, write {${field}-${firstInNames}} in --pattern\n`,
    );
}

function buildManifest(
  inputs: string[],
  f: ConvertFlags,
): { manifest: ManifestInput; baseDir: string; output: string } {
  if (f.manifest) return manifestFromFile(inputs, f, f.manifest);
  if (inputs.length === 0)
    throw new CliError('give input files or folders, or --manifest (see bdv convert --help)');
  if (!f.output) throw new CliError('--output <file.h5> is required');
  const name = f.name ?? basename(f.output).replace(/\.h5$/i, '');
  const { manifest, skipped, fromOne } = quickManifest(inputs, quickOptionsOf(f, name));
  if (skipped.length > 0) noteSkipped(skipped, f.pattern);
  if (fromOne.length > 0) noteNotFromZero(fromOne);
  return { manifest, baseDir: process.cwd(), output: resolve(f.output) };
}

function manifestFromFile(
  inputs: string[],
  f: ConvertFlags,
  file: string,
): { manifest: ManifestInput; baseDir: string; output: string } {
  if (inputs.length > 0) throw new CliError('give either --manifest or input files, not both');
  const used = quickFlagsSet(f);
  if (used.length > 0)
    throw new CliError(
      `${used.join(', ')} ${used.length > 1 ? 'apply' : 'applies'} to the quick form (input files and flags); with --manifest, put ${used.length > 1 ? 'them' : 'it'} in the manifest`,
    );
  const manifest = readManifestFile(file);
  const name = (manifest as { dataset?: { name?: unknown } }).dataset?.name;
  const output = f.output ?? (typeof name === 'string' ? `${name}.h5` : undefined);
  if (!output) throw new CliError('--output is required (the manifest has no dataset.name)');
  return { manifest, baseDir: dirname(resolve(file)), output: resolve(output) };
}

/** How each form names the fields "auto" can fill, and where a user chooses them instead. */
const AUTO_TERMS = {
  manifest: {
    names: { subsamplingZyx: 'subsamplingZyx', blockSizeZyx: 'blockSizeZyx' },
    instead: "the manifest's dataset chooses others",
  },
  quick: {
    names: { subsamplingZyx: '--subsampling', blockSizeZyx: '--block' },
    instead: '--subsampling/--block choose others',
  },
} as const;

/** The levels written, and where "auto" chose them (the quick form's default). */
export function pyramidLine(p: ConversionResult['pyramid'], fromManifest = false): string {
  const levels = (l: number[][]) => l.map((x) => x.join(',')).join(':');
  const count = p.subsamplingZyx.length;
  const given = p.blockSizeZyx;
  // npy2bdv's rule: fewer block sizes than levels, and the first serves every level; block sizes
  // beyond the last level are not used. Both said, since a user who typed them meant something.
  const firstServesAll = given.length < count;
  const used = firstServesAll ? given.slice(0, 1) : given.slice(0, count);
  const unused = given.slice(firstServesAll ? 1 : count);
  const note = firstServesAll
    ? given.length > 1
      ? `\n    ${given.length} block sizes for ${count} levels: the first serves every level, ${levels(unused)} not used`
      : ''
    : unused.length > 0
      ? `\n    ${unused.length} block size(s) beyond the last level not used: ${levels(unused)}`
      : '';
  const line = `  pyramid: ${count} level(s) ${levels(p.subsamplingZyx)}, blocks ${levels(used)} (z,y,x)${note}`;
  if (!p.fromView) return line;
  const v = p.fromView;
  const shallower = p.shallowerBlockLevels;
  const wider = p.widerBlockLevels;
  const fitted =
    (shallower.length === 0
      ? ''
      : `\n    blocks of level(s) ${shallower.join(', ')} made shallower than proposed: their chunk-deep slabs ` +
        `would pass the ${MAX_VIEW_BUFFER_BYTES / 2 ** 20} MiB a view may buffer`) +
    (wider.length === 0
      ? ''
      : `\n    blocks of level(s) ${wider.join(', ')} made wider than proposed: the view would make more than ` +
        `the ${MAX_VIEW_CHUNKS} chunks a writer keeps track of`);
  const terms = AUTO_TERMS[fromManifest ? 'manifest' : 'quick'];
  return (
    `${line}\n    ${p.auto.map((field) => terms.names[field]).join(' and ')} "auto": BigDataViewer's proposal for ${v.key} ` +
    `(${v.shapeZyx.join('x')} z,y,x, voxel ${v.voxelSizeXyz.join('x')} x,y,z); ${terms.instead}` +
    fitted
  );
}

/**
 * One file is written by one thread, so compressed views in it use one core: a user converting
 * several hears once, after the summary, of the layout that uses every core (README, Performance).
 */
export function layoutTip(
  r: ConversionResult,
  compression: string,
  cores: number,
  fromManifest = false,
): string {
  if (r.layout !== 'single' || r.written < 2 || compression === 'none' || cores < 2) return '';
  // A manifest's layout is its own ("--layout" is refused with --manifest).
  const how = fromManifest ? '"layout": "partitioned" in the manifest\'s dataset' : '--layout partitioned';
  return (
    `tip: ${compression} views in one file compress on one core; ${how} writes a file per ` +
    `view on all ${cores} cores (README "Performance": 8 gzip views went 1.7-1.9x faster on 2 cores)\n`
  );
}

/**
 * npy2bdv puts `--voxel-size` into the XML as metadata only; BigDataViewer draws with the
 * registration, where `--calibration` goes (1,1,1 unless given). A user who gave an anisotropic
 * voxel size and no calibration sees z squashed in Fiji: told once, with the calibration that
 * draws the stack to scale (x as the unit, as BigStitcher's own import does).
 */
export function calibrationTip(f: Pick<ConvertFlags, 'voxelSize' | 'calibration' | 'unit'>): string {
  if (f.voxelSize === undefined || f.calibration !== undefined) return '';
  const [x, y, z] = parseTriple(f.voxelSize, '--voxel-size');
  if (y === x && z === x) return '';
  const scale = [1, y / x, z / x].map((v) => Number(v.toPrecision(4)));
  return (
    `tip: the voxel size (${f.voxelSize}${f.unit ? ` ${f.unit}` : ''}) is metadata; Fiji draws with the calibration, ` +
    `1,1,1 here, so each voxel as a cube; --calibration ${scale.join(',')} draws the stack to scale\n`
  );
}

function printResult(r: ConversionResult, json: boolean, fromManifest: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const mb = r.bytes / MB;
  const kept = r.kept > 0 ? `kept ${r.kept} view(s) the earlier run wrote, ` : '';
  process.stdout.write(
    [
      `${kept}wrote ${r.written} view(s), ${humanBytes(r.bytes)} in ${r.seconds.toFixed(2)} s (${(mb / Math.max(r.seconds, 1e-3)).toFixed(0)} MB/s)` +
        (r.missingViews > 0
          ? `, ${r.missingViews} missing view(s) listed in the XML (${r.missingSample.join(', ')}${r.missingViews > r.missingSample.length ? ', …' : ''})`
          : ''),
      `  layout ${r.layout}${r.layout === 'partitioned' ? ' (one file per view + master)' : ' (one file)'}, ${r.threads} writer thread(s)` +
        (r.gzip ? `, gzip by ${r.gzip}` : ''),
      pyramidLine(r.pyramid, fromManifest),
      `  HDF5: ${r.h5}`,
      `  XML:  ${r.xml}`,
      '',
    ].join('\n'),
  );
}
