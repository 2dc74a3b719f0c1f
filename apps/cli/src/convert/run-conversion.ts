import { BdvWriter, setupCount, setupIdOf } from '@bdv-cluster/bdv';
import { type Manifest } from '@bdv-cluster/contract';
import { existsSync } from 'node:fs';
import { CliError } from '../cli-error.js';
import type { ProgressReporter } from '../progress/progress-reporter.js';
import { planViews, type PlannedView } from './planned-view.js';
import { writeInProcess, writeOnThreads } from './view-writing.js';

export interface ConversionRequest {
  manifest: Manifest;
  /** The .h5 to write; the .xml goes beside it. */
  output: string;
  overwrite: boolean;
  /** Where relative source paths start (the manifest's folder). */
  baseDir: string;
  slabBytes?: number;
  /** Views written at once, on worker threads (partitioned layout only). */
  jobs?: number;
}

export interface ConversionResult {
  h5: string;
  xml: string;
  views: number;
  missingViews: number;
  bytes: number;
  seconds: number;
}

/**
 * Checks every input's header first (so a bad file fails before the output exists), then
 * streams the views into the BDV file(s) and writes the XML.
 */
export async function runConversion(
  req: ConversionRequest,
  progress: ProgressReporter,
): Promise<ConversionResult> {
  const { dataset } = req.manifest;
  const jobs = req.jobs ?? 1;
  assertWritable(req, jobs);
  const planned = await planViews(req.manifest.views, req.baseDir);
  const started = performance.now();
  const writer = await BdvWriter.create(req.output, {
    ...dataset,
    overwrite: req.overwrite,
    slabBytes: req.slabBytes,
  });
  try {
    for (const [attribute, labels] of Object.entries(dataset.attributeLabels ?? {})) {
      if (labels) writer.setAttributeLabels(attribute as 'channel', labels);
    }
    progress.start(planned.length, totalBytes(planned));
    if (jobs > 1) await writeOnThreads(writer, planned, jobs, progress);
    else await writeInProcess(writer, planned, progress);
    await writer.writeXml({ microscope: dataset.microscope, timepoints: dataset.timepoints });
  } finally {
    progress.stop();
    await writer.close();
  }
  return {
    h5: req.output,
    xml: writer.xmlPath,
    views: planned.length,
    missingViews: missingViews(req.manifest, planned),
    bytes: totalBytes(planned),
    seconds: (performance.now() - started) / 1000,
  };
}

function assertWritable(req: ConversionRequest, jobs: number): void {
  if (existsSync(req.output) && !req.overwrite) {
    throw new CliError(`${req.output} already exists (pass --overwrite to replace it)`);
  }
  if (jobs > 1 && req.manifest.dataset.layout !== 'partitioned') {
    throw new CliError(
      `--jobs ${jobs} writes views in parallel, which needs --layout partitioned (one file per view)`,
    );
  }
}

function totalBytes(planned: readonly PlannedView[]): number {
  return planned.reduce((sum, v) => sum + v.bytes, 0);
}

function missingViews(manifest: Manifest, planned: readonly PlannedView[]): number {
  const { setup, timepoints } = manifest.dataset;
  const present = new Set(planned.map((v) => `${v.spec.time}:${setupIdOf(setup, v.spec)}`));
  const times = timepoints ?? Math.max(...planned.map((v) => v.spec.time)) + 1;
  return times * setupCount(setup) - present.size;
}
