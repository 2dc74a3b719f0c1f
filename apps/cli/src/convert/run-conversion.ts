import {
  BdvWriter,
  preferredSlabDepth,
  setupCount,
  setupIdOf,
  type AppendViewOptions,
} from '@bdv-cluster/bdv';
import { readOptionsOf, viewKeyOf, type Manifest, type ViewSpec } from '@bdv-cluster/contract';
import { asSlabStack, openStackFile, type OpenStackOptions } from '@bdv-cluster/stacks';
import { existsSync } from 'node:fs';
import { CliError } from '../cli-error.js';
import type { ProgressReporter } from '../progress/progress-reporter.js';
import { writePartitionsInThreads } from './parallel-partitions.js';
import { localPathOf } from './local-source.js';

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

interface PlannedView {
  spec: ViewSpec;
  key: string;
  path: string;
  options: OpenStackOptions;
  bytes: number;
  shapeZyx: number[];
}

/**
 * Checks every input's header first (so a bad file fails before the output exists), then
 * streams the views one by one into one BDV file and writes the XML.
 */
export async function runConversion(
  req: ConversionRequest,
  progress: ProgressReporter,
): Promise<ConversionResult> {
  const { dataset } = req.manifest;
  if (existsSync(req.output) && !req.overwrite) {
    throw new CliError(`${req.output} already exists (pass --overwrite to replace it)`);
  }
  const jobs = req.jobs ?? 1;
  if (jobs > 1 && dataset.layout !== 'partitioned') {
    throw new CliError(
      `--jobs ${jobs} writes views in parallel, which needs --layout partitioned (one file per view)`,
    );
  }
  const planned: PlannedView[] = [];
  for (const [i, spec] of req.manifest.views.entries()) {
    const path = localPathOf(spec.source.uri, req.baseDir, `views[${i}].source.uri`);
    const options = readOptionsOf(spec.source);
    const reader = await openStackFile(path, options);
    planned.push({
      spec,
      key: viewKeyOf(spec),
      path,
      options,
      bytes: reader.dataBytes,
      shapeZyx: [...reader.shapeZyx],
    });
    await reader.close();
  }

  const started = performance.now();
  const writer = await BdvWriter.create(req.output, {
    setup: dataset.setup,
    subsamplingZyx: dataset.subsamplingZyx,
    blockSizeZyx: dataset.blockSizeZyx,
    compression: dataset.compression,
    compressionLevel: dataset.compressionLevel,
    layout: dataset.layout,
    overwrite: req.overwrite,
    slabBytes: req.slabBytes,
  });
  const totalBytes = planned.reduce((sum, v) => sum + v.bytes, 0);
  try {
    for (const [attribute, labels] of Object.entries(dataset.attributeLabels ?? {})) {
      if (labels) writer.setAttributeLabels(attribute as 'channel', labels);
    }
    progress.start(planned.length, totalBytes);
    if (jobs > 1) {
      await writeInParallel(writer, planned, jobs, progress);
    } else {
      for (const view of planned) await writeOne(writer, view, progress, req.slabBytes);
    }
    writer.writeXml({ microscope: dataset.microscope, timepoints: dataset.timepoints });
  } finally {
    progress.stop();
    writer.close();
  }
  const present = new Set(planned.map((v) => `${v.spec.time}:${setupIdOf(dataset.setup, v.spec)}`));
  const timepoints = dataset.timepoints ?? Math.max(...planned.map((v) => v.spec.time)) + 1;
  return {
    h5: req.output,
    xml: writer.xmlPath,
    views: planned.length,
    missingViews: timepoints * setupCount(dataset.setup) - present.size,
    bytes: totalBytes,
    seconds: (performance.now() - started) / 1000,
  };
}

function metadataOf(view: PlannedView): AppendViewOptions {
  const { source: _source, ...metadata } = view.spec;
  return metadata;
}

/** One view after the other, in this thread. */
async function writeOne(
  writer: BdvWriter,
  view: PlannedView,
  progress: ProgressReporter,
  slabBytes?: number,
): Promise<void> {
  progress.viewStarted(view.key, view.path);
  const viewStart = performance.now();
  const reader = await openStackFile(view.path, view.options);
  let reported = 0;
  try {
    const depth = preferredSlabDepth(reader.shapeZyx, writer.levels, slabBytes);
    await writer.appendView(asSlabStack(reader, depth), {
      ...metadataOf(view),
      onProgress: (p) => {
        const done = (p.bytesDone / p.bytesTotal) * view.bytes;
        progress.bytes(done - reported);
        reported = done;
      },
    });
  } finally {
    await reader.close();
  }
  progress.viewDone(view.key, view.bytes, (performance.now() - viewStart) / 1000);
}

/** Partitions written on worker threads; linked into the master here as each one finishes. */
async function writeInParallel(
  writer: BdvWriter,
  planned: PlannedView[],
  jobs: number,
  progress: ProgressReporter,
): Promise<void> {
  const plans = planned.map((view) => writer.planPartition(view.shapeZyx, metadataOf(view)));
  const reported = planned.map(() => 0);
  const started = planned.map(() => 0);
  await writePartitionsInThreads(
    plans.map((plan, i) => ({ plan, path: planned[i]!.path, options: planned[i]!.options })),
    jobs,
    {
      started: (i) => {
        started[i] = performance.now();
        progress.viewStarted(planned[i]!.key, planned[i]!.path);
      },
      progress: (i, fraction) => {
        const done = fraction * planned[i]!.bytes;
        progress.bytes(done - reported[i]!);
        reported[i] = done;
      },
      done: (i) => {
        writer.adoptPartition(plans[i]!);
        progress.viewDone(planned[i]!.key, planned[i]!.bytes, (performance.now() - started[i]!) / 1000);
      },
    },
  );
}
