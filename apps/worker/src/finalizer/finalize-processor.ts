import {
  s3SettingsOf,
  type AnnounceOutcome,
  type ClusterConfig,
  type DatasetFiles,
  type DatasetStore,
  type FinalizeJob,
} from '@bdv-cluster/pipeline';
import { BdvError, type BdvErrorCode, type VerifyOptions } from '@bdv-cluster/bdv';
import { StorageError } from '@bdv-cluster/storage';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import {
  exportDatasetFiles,
  isFileLocked,
  verificationProblems,
  writeDatasetFiles,
} from './dataset-outputs.js';

export interface FinalizerDeps {
  config: ClusterConfig;
  store: Pick<DatasetStore, 'getDataset' | 'listViews' | 'completeFinalize' | 'failFinalize'>;
  /** Queues the dataset's notification once it is complete or failed (see announceSafely). */
  announce: Pick<AnnounceOutcome, 'execute'>;
  /** Where written partitions are read back (worker threads); default: the finalizer's own thread. */
  checkFiles?: VerifyOptions['checkFiles'];
  log: Logger;
}

export type FinalizeJobLike = Pick<
  Job<FinalizeJob>,
  'id' | 'data' | 'attemptsMade' | 'opts' | 'moveToDelayed'
>;

/**
 * Once all views are settled: the master .h5 (partitioned layout) and the XML, the export to the
 * output bucket if one is set, then `complete`. Runs once per finalize generation; a stale
 * generation (views were added since) does nothing.
 */
export function finalizeProcessor(deps: FinalizerDeps) {
  return async (job: FinalizeJobLike, token?: string): Promise<string> => {
    const { datasetId, generation } = job.data;
    const log = deps.log.child({ datasetId, jobId: job.id, generation });
    const dataset = await deps.store.getDataset(datasetId);
    if (!dataset) throw new UnrecoverableError(`dataset ${datasetId} no longer exists`);
    if (dataset.generation !== generation || dataset.status !== 'finalizing')
      return 'stale finalize (superseded)';
    const views = await deps.store.listViews(datasetId);
    const done = views.filter((v) => v.state === 'done').length;
    try {
      if (done === 0) throw new UnrecoverableError('no view was written: nothing to finalize');
      const startedAt = performance.now();
      const report = await writeDatasetFiles(dataset, views, deps.checkFiles);
      const filesSeconds = (performance.now() - startedAt) / 1000;
      if (!report.ok) {
        // Never `complete` over pixels that do not read back as written: say which views differ.
        throw new UnrecoverableError(
          `verification failed: ${verificationProblems(report).slice(0, 20).join('; ')}`,
        );
      }
      const files: DatasetFiles = { h5: dataset.files.h5, xml: dataset.files.xml };
      const bucket = deps.config.OUTPUT_BUCKET;
      if (bucket) {
        const exported = await exportDatasetFiles(s3SettingsOf(deps.config), bucket, dataset, views).catch(
          (error: unknown) => {
            // Another's objects under the export's name, or credentials that may not read them,
            // stay so whatever the number of tries.
            if (error instanceof StorageError && (error.code === 'CONFLICT' || error.code === 'DENIED'))
              throw new UnrecoverableError(`export: ${error.message}`);
            throw error;
          },
        );
        Object.assign(files, exported);
      }
      const completed = await deps.store.completeFinalize(datasetId, generation, files);
      // Where a finalize's time went: verification + master + XML, then the export (operators, bench).
      const seconds = { files: filesSeconds, export: (performance.now() - startedAt) / 1000 - filesSeconds };
      log.info({ views: done, missing: views.length - done, files, seconds }, 'dataset complete');
      if (completed) await announceSafely(deps, datasetId, generation, log);
      return 'complete';
    } catch (thrown) {
      const error = permanentAsUnrecoverable(thrown);
      if (isFileLocked(error)) {
        // A writer (perhaps paused) still holds the single file: verify once it lets go.
        log.info('dataset file busy: finalize delayed');
        await job.moveToDelayed(Date.now() + 2000, token);
        throw new DelayedError();
      }
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        const failed = await deps.store.failFinalize(datasetId, generation, (error as Error).message);
        log.error({ reason: (error as Error).message }, 'finalize failed');
        if (failed) await announceSafely(deps, datasetId, generation, log);
      }
      throw error;
    }
  };
}

/**
 * What the dataset's own description makes impossible (timepoints fewer than a view needs, say)
 * fails the same way on every attempt: the dataset fails now with the reason, not after retries.
 */
const PERMANENT_CODES = new Set<BdvErrorCode>([
  'INVALID_ARGUMENT',
  'OUT_OF_RANGE',
  'DUPLICATE_VIEW',
  'SHAPE_MISMATCH',
  'UNSUPPORTED',
]);

function permanentAsUnrecoverable(error: unknown): unknown {
  return error instanceof BdvError && PERMANENT_CODES.has(error.code)
    ? new UnrecoverableError(error.message)
    : error;
}

/**
 * Queues the notification of a dataset that just became complete or failed. Never fails the
 * finalize: the dataset's state is already settled, and a notification that cannot even be queued
 * (Redis away at that very moment) is only logged — the receiver can still poll GET.
 */
export async function announceSafely(
  deps: Pick<FinalizerDeps, 'announce'>,
  datasetId: string,
  generation: number,
  log: Logger,
): Promise<void> {
  try {
    if (await deps.announce.execute(datasetId, generation)) log.info({ generation }, 'notification queued');
  } catch (error) {
    log.error({ reason: (error as Error).message }, 'could not queue the notification');
  }
}
