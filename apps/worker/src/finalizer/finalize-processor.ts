import { BdvH5File, buildSpimDataXml, resolveLevels, setupCount } from '@bdv-cluster/bdv';
import {
  spimDataFromState,
  type ClusterConfig,
  type DatasetFiles,
  type DatasetRecord,
  type DatasetStore,
  type FinalizeJob,
  type ViewEntry,
  s3SettingsOf,
} from '@bdv-cluster/pipeline';
import { createS3Client, uploadFile } from '@bdv-cluster/storage';
import { UnrecoverableError, type Job } from 'bullmq';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';

export interface FinalizerDeps {
  config: ClusterConfig;
  store: DatasetStore;
  log: Logger;
}

/**
 * Writes the XML (and, in the partitioned layout, the master .h5 linking every partition) once
 * all views are settled, optionally exports the files to the output bucket, marks the dataset
 * complete. Runs once per finalize generation.
 */
export function finalizeProcessor(deps: FinalizerDeps) {
  return async (job: Job<FinalizeJob>): Promise<string> => {
    const { datasetId, generation } = job.data;
    const log = deps.log.child({ datasetId, jobId: job.id, generation });
    const dataset = await deps.store.getDataset(datasetId);
    if (!dataset) throw new UnrecoverableError(`dataset ${datasetId} no longer exists`);
    if (dataset.generation !== generation || dataset.status !== 'finalizing')
      return 'stale finalize (superseded)';
    const views = await deps.store.listViews(datasetId);
    const done = views.filter((v) => v.state === 'done');
    try {
      if (done.length === 0) throw new UnrecoverableError('no view was written: nothing to finalize');
      mkdirSync(dirname(dataset.files.h5), { recursive: true });
      if (dataset.spec.layout === 'partitioned') await writeMaster(dataset, done);
      writeAtomically(dataset.files.xml, buildSpimDataXml(spimDataFromState(dataset, views)));
      const files: DatasetFiles = { h5: dataset.files.h5, xml: dataset.files.xml };
      if (deps.config.OUTPUT_BUCKET) Object.assign(files, await exportFiles(deps, dataset, done));
      await deps.store.completeFinalize(datasetId, generation, files);
      log.info({ views: done.length, missing: views.length - done.length, files }, 'dataset complete');
      return 'complete';
    } catch (error) {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (error instanceof UnrecoverableError || lastAttempt) {
        await deps.store.failFinalize(datasetId, generation, (error as Error).message);
        log.error({ reason: (error as Error).message }, 'finalize failed');
      }
      throw error;
    }
  };
}

/** The master file of the partitioned layout, rebuilt whole on each finalize and swapped in. */
async function writeMaster(dataset: DatasetRecord, done: ViewEntry[]): Promise<void> {
  const tmp = join(dirname(dataset.files.h5), `.${basename(dataset.files.h5)}.tmp`);
  const levels = resolveLevels(dataset.spec.subsamplingZyx, dataset.spec.blockSizeZyx);
  rmSync(tmp, { force: true });
  const master = await BdvH5File.create(tmp);
  try {
    for (let s = 0; s < setupCount(dataset.spec.setup); s++) master.writeSetupHeader(s, levels);
    for (const view of done) {
      levels.forEach((_, level) =>
        master.linkExternalCells(view.spec.time, view.setupId, level, view.result!.partition!),
      );
    }
  } finally {
    master.close();
  }
  renameSync(tmp, dataset.files.h5);
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function exportFiles(
  deps: FinalizerDeps,
  dataset: DatasetRecord,
  done: ViewEntry[],
): Promise<Partial<DatasetFiles>> {
  const bucket = deps.config.OUTPUT_BUCKET!;
  const client = createS3Client(s3SettingsOf(deps.config));
  const key = (file: string) => `${dataset.name}/${basename(file)}`;
  try {
    const partitions = done.flatMap((v) =>
      v.result?.partition ? [join(dirname(dataset.files.h5), v.result.partition)] : [],
    );
    for (const file of [dataset.files.h5, ...partitions])
      await uploadFile(client, bucket, key(file), file, 'application/x-hdf5');
    await uploadFile(client, bucket, key(dataset.files.xml), dataset.files.xml, 'application/xml');
    return {
      h5Uri: `s3://${bucket}/${key(dataset.files.h5)}`,
      xmlUri: `s3://${bucket}/${key(dataset.files.xml)}`,
    };
  } finally {
    client.destroy();
  }
}
