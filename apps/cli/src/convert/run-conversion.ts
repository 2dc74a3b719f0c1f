import {
  checksumPathFor,
  deflateEngine,
  preloadHdf5,
  resolveLevels,
  setupAttributesOf,
  setupCount,
  setupIdOf,
  viewBufferProblem,
  warmWritingThreads,
  xmlPathFor,
  type Layout,
  type Zyx,
} from '@bdv-cluster/bdv';
import {
  autoPyramidFields,
  pyramidFor,
  viewKeyOf,
  type ChosenPyramid,
  type Manifest,
} from '@bdv-cluster/contract';
import { ViewThreadPool } from '@bdv-cluster/convert';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { CliError, speaksForItself, systemErrorLine } from '../cli-error.js';
import type { ProgressReporter } from '../progress/progress-reporter.js';
import { commitGroupFromEnv } from './commit-group-env.js';
import { InterruptedError, throwIfInterrupted } from './interruption.js';
import { assertInputsAreNotOutputs } from './inputs-not-outputs.js';
import { openOutput, removeStagedFiles } from './open-output.js';
import { assertOutputPlace } from './output-place.js';
import { planViews, type PlannedView } from './planned-view.js';
import { writeInProcess, writeOnThreads } from './view-writing.js';

export interface ConversionRequest {
  manifest: Manifest;
  /** The .h5 to write; the .xml goes beside it. */
  output: string;
  overwrite: boolean;
  /** Continue an interrupted conversion into `output`: views it finished are kept. */
  resume?: boolean;
  /** Where relative source paths start (the manifest's folder). */
  baseDir: string;
  slabBytes?: number;
  /** Views written at once, on worker threads (partitioned layout only). */
  jobs?: number;
  /** Aborted by Ctrl-C: the conversion stops at a safe point and throws the signal's reason. */
  signal?: AbortSignal;
}

export interface ConversionResult {
  h5: string;
  xml: string;
  /** Views in the output (kept + written). */
  views: number;
  /** Views written by this run. */
  written: number;
  /** Views an earlier, interrupted run had written and that were kept (--resume). */
  kept: number;
  missingViews: number;
  /** The first few missing views' keys, in time then setup order (a sample, for the summary). */
  missingSample: string[];
  /** Input bytes converted by this run. */
  bytes: number;
  seconds: number;
  layout: Layout;
  /** Worker threads that wrote views (1: in this thread). */
  threads: number;
  /** gzip output: what deflated its chunks ("libdeflate 1.14", or "Node zlib" without the binding). */
  gzip?: string;
  /**
   * The levels and chunk shapes written, what of them was "auto" (proposed from `fromView`), and
   * which levels' proposed blocks were made shallower to fit a view's memory bound.
   */
  pyramid: ChosenPyramid & {
    auto: ReturnType<typeof autoPyramidFields>;
    fromView?: { key: string; shapeZyx: number[]; voxelSizeXyz: number[] };
  };
}

/**
 * Checks every input's header first (so a bad file fails before the output exists), then
 * streams the views into the BDV file(s) and writes the XML. Every view is committed and
 * recorded on its own, so a run stopped at any point can be continued with `resume`.
 */
export async function runConversion(
  req: ConversionRequest,
  progress: ProgressReporter,
): Promise<ConversionResult> {
  const jobs = req.jobs ?? 1;
  assertWritable(req, jobs);
  // Started now, the threads load HDF5 on their own cores while the inputs' headers are read.
  const threads = jobs > 1 ? new ViewThreadPool() : undefined;
  threads?.warm(Math.min(jobs, req.manifest.views.length));
  // In this thread, HDF5 loads while the headers are read and the output's fence is taken
  // (a flock child to start) instead of after them.
  if (!threads) preloadHdf5().catch(() => undefined);
  try {
    return await convertViews(req, progress, jobs, threads);
  } finally {
    await threads?.close();
  }
}

async function convertViews(
  req: ConversionRequest,
  progress: ProgressReporter,
  jobs: number,
  threads: ViewThreadPool | undefined,
): Promise<ConversionResult> {
  const { dataset } = req.manifest;
  const planned = await planViews(req.manifest.views, req.baseDir);
  assertInputsAreNotOutputs(planned, req.output);
  throwIfInterrupted(req.signal);
  // This thread writes: its helpers start while HDF5 loads, not at the first view's first slab.
  if (!threads) warmWritingThreads(planned.reduce((most, view) => Math.max(most, view.bytes), 0));
  const started = performance.now();
  const pyramid = choosePyramid(dataset, planned);
  assertViewsFitMemory(planned, pyramid);
  const writer = await openOutput(
    {
      output: req.output,
      options: {
        ...dataset,
        subsamplingZyx: pyramid.subsamplingZyx,
        blockSizeZyx: pyramid.blockSizeZyx,
        overwrite: req.overwrite,
        slabBytes: req.slabBytes,
        commitGroup: commitGroupFromEnv(),
      },
      resume: req.resume ?? false,
    },
    planned,
  );
  const todo = planned.filter((view) => !writer.has(view.spec));
  const kept = planned.length - todo.length;
  try {
    for (const [attribute, labels] of Object.entries(dataset.attributeLabels ?? {})) {
      if (labels) writer.setAttributeLabels(attribute as 'channel', labels);
    }
    if (req.resume) progress.resumed(kept);
    progress.start(todo.length, totalBytes(todo));
    await (threads
      ? writeOnThreads(threads, writer, todo, jobs, progress, req.signal)
      : writeInProcess(writer, todo, progress, req.signal));
    await writer.writeXml({ microscope: dataset.microscope, timepoints: dataset.timepoints });
  } catch (error) {
    if (req.signal?.aborted) {
      removeStagedFiles(req.output);
      if (error instanceof InterruptedError) throw error.keeping(writer.views.length, req.output);
    } else if (speaksForItself(error))
      throw withResumeHint(error, req.output, writer.views.length, req.overwrite === true);
    // A file-system error outside a view (the XML or the record on a disk just full): the views
    // are committed, and --resume finishes from them.
    const line = systemErrorLine(error);
    if (line) throw withResumeHint(new Error(line), req.output, writer.views.length, req.overwrite === true);
    throw error;
  } finally {
    progress.stop();
    await writer.close();
  }
  return {
    h5: req.output,
    xml: writer.xmlPath,
    views: planned.length,
    written: todo.length,
    kept,
    ...missingViews(req.manifest, planned),
    bytes: totalBytes(todo),
    seconds: (performance.now() - started) / 1000,
    layout: dataset.layout,
    threads: jobs > 1 ? Math.min(jobs, todo.length) : 1,
    // Threads load the binding as this one does: the same answer (docs/adr/020).
    ...(dataset.compression === 'gzip' ? { gzip: deflateEngine() } : {}),
    pyramid,
  };
}

/**
 * A view failed once the output existed (an input unreadable past its header, one that shrank
 * mid-run, a full disk): what is already written stays, and the message says how to go on from it
 * rather than leave a user facing "already exists" at the next run.
 */
function withResumeHint(error: Error, output: string, finished: number, overwrote: boolean): CliError {
  // --resume and --overwrite exclude each other: the same command with one put for the other.
  const again = overwrote
    ? 'the same command with --resume instead of --overwrite'
    : 'the same command with --resume';
  const kept =
    finished > 0
      ? `${output} keeps the ${finished} view(s) finished before this failure: once its cause is fixed, run ${again} to convert the rest`
      : `no view was finished before this failure: once its cause is fixed, run ${again} to convert them into ${output}`;
  return new CliError(`${error.message}\n  ${kept} (or --overwrite to start again)`);
}

/**
 * "auto" levels/blocks: BigDataViewer's proposal for the first view (in the manifest's order) —
 * its shape from the header just read, its voxel size — shared by every view of the file.
 */
function choosePyramid(
  dataset: Manifest['dataset'],
  planned: readonly PlannedView[],
): ConversionResult['pyramid'] {
  const auto = autoPyramidFields(dataset);
  const first = planned[0]!;
  const voxelSizeXyz = first.spec.voxelSizeXyz ?? [1, 1, 1];
  return {
    ...pyramidFor(dataset, first.shapeZyx, voxelSizeXyz),
    auto,
    ...(auto.length > 0 ? { fromView: { key: first.key, shapeZyx: first.shapeZyx, voxelSizeXyz } } : {}),
  };
}

/**
 * A view whose chunk-deep slabs would pass its memory bound is refused by the writer at its first
 * slab; refused here, before the output exists and before a byte of any input is read (the writer
 * had read a 512 MiB slab by then), naming the input.
 */
function assertViewsFitMemory(planned: readonly PlannedView[], pyramid: ConversionResult['pyramid']): void {
  const levels = resolveLevels(pyramid.subsamplingZyx, pyramid.blockSizeZyx);
  for (const view of planned) {
    const problem = viewBufferProblem(view.shapeZyx as Zyx, levels);
    if (problem) throw new CliError(`${view.path}: --block (blockSizeZyx): ${problem}`);
  }
}

function assertWritable(req: ConversionRequest, jobs: number): void {
  if (req.resume && req.overwrite)
    throw new CliError('--resume continues the existing output and --overwrite replaces it: give one');
  // Before "already exists", and whatever --overwrite says: a folder at the output's name is
  // never the .h5 a user meant to replace.
  assertOutputPlace(req.output);
  if (req.overwrite || req.resume) return assertJobs(req, jobs);
  if (existsSync(req.output))
    throw new CliError(
      `${req.output} already exists (pass --overwrite to replace it, or --resume to continue an interrupted conversion)`,
    );
  // An XML alone (registered by hand, its .h5 elsewhere) is an output too: never replaced unasked.
  const xml = xmlPathFor(req.output);
  if (existsSync(xml)) throw new CliError(`${xml} already exists (pass --overwrite to replace it)`);
  // A partitioned run stopped early has partitions and their record, but no master yet.
  const record = checksumPathFor(xmlPathFor(req.output));
  if (existsSync(record))
    throw new CliError(
      `${req.output}: an earlier conversion into it left ${basename(record)} (and maybe partitions): pass --resume to continue it, or --overwrite to start again`,
    );
  assertJobs(req, jobs);
}

function assertJobs(req: ConversionRequest, jobs: number): void {
  if (jobs > 1 && req.manifest.dataset.layout !== 'partitioned') {
    throw new CliError(
      `--jobs ${jobs} writes views in parallel, which needs --layout partitioned (one file per view)`,
    );
  }
}

function totalBytes(planned: readonly PlannedView[]): number {
  return planned.reduce((sum, v) => sum + v.bytes, 0);
}

/** How many views of the grid (timepoints x setups) no input gives, and the first few of them. */
function missingViews(
  manifest: Manifest,
  planned: readonly PlannedView[],
): { missingViews: number; missingSample: string[] } {
  const { setup, timepoints } = manifest.dataset;
  const present = new Set(planned.map((v) => `${v.spec.time}:${setupIdOf(setup, v.spec)}`));
  const times = timepoints ?? Math.max(...planned.map((v) => v.spec.time)) + 1;
  const setups = setupCount(setup);
  const sample: string[] = [];
  for (let t = 0; t < times && sample.length < MISSING_SAMPLE; t++)
    for (let id = 0; id < setups && sample.length < MISSING_SAMPLE; id++)
      if (!present.has(`${t}:${id}`)) sample.push(viewKeyOf({ time: t, ...setupAttributesOf(setup, id) }));
  return { missingViews: times * setups - present.size, missingSample: sample };
}

/** Missing views named in the summary (the rest are counted). */
const MISSING_SAMPLE = 5;
