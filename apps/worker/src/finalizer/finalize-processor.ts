import {
  s3SettingsOf,
  type AnnounceOutcome,
  type ClusterConfig,
  type DatasetFiles,
  type DatasetRecord,
  type DatasetStore,
  type ViewEntry,
} from '@bdv-cluster/pipeline';
import { BdvError, type BdvErrorCode, type VerifyOptions, type VerifyReport } from '@bdv-cluster/bdv';
import { ViewTaskError } from '@bdv-cluster/convert';
import { StorageError } from '@bdv-cluster/storage';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { prepareOutputFolder } from '../outage/output-folder.js';
import { redisClock } from '../outage/redis-clock.js';
import {
  exportDatasetFiles,
  isFileLocked,
  writeDatasetFiles,
  type ExportProgress,
} from './dataset-outputs.js';
import { finalizeGuard, FinalizeStopped, guardedChecks, type FinalizeGuard } from './finalize-guard.js';
import { outageOf, waitOutFinalizeOutage, type FinalizeJobData, type OutageDeps } from './finalize-outage.js';
import { endStoppedFinalize } from './stopped-finalize.js';
import { unverifiedViews, verificationProblems } from './unverified-views.js';

export interface FinalizerDeps {
  config: ClusterConfig;
  store: Pick<
    DatasetStore,
    | 'getDataset'
    | 'listViews'
    | 'completeFinalize'
    | 'failFinalize'
    | 'failUnverifiedViews'
    | 'finalizeStanding'
    | 'redis'
  > &
    OutageDeps['store'];
  /** Queues the dataset's notification once it is complete or failed (see announceSafely). */
  announce: Pick<AnnounceOutcome, 'execute'>;
  /** Where written partitions are read back (worker threads); default: the finalizer's own thread. */
  checkFiles?: VerifyOptions['checkFiles'];
  /** The cluster's clock, on which outages are timed; default: Redis's (`TIME`), as the writers'. */
  now?: () => Promise<number>;
  log: Logger;
}

export type FinalizeJobLike = Pick<
  Job<FinalizeJobData>,
  'id' | 'data' | 'attemptsMade' | 'opts' | 'moveToDelayed' | 'updateData' | 'extendLock'
>;

/**
 * Once all views are settled: the master .h5 (partitioned layout) and the XML, published once
 * every written view reads back as recorded, the export to the output bucket if one is set, then
 * `complete`. Runs once per finalize generation; a stale generation (views were added since) does
 * nothing. Written views that no longer read back become failed views, and the dataset `failed`
 * (retry them). Before each step it cannot take back it makes sure the generation is still the
 * dataset's finalize (finalize-guard.ts): cancelled or lost from Redis, it stops and takes its
 * export back. Outages (object store, output volume) are waited out as the writers wait them out.
 */
export function finalizeProcessor(deps: FinalizerDeps) {
  const outage: OutageDeps = {
    store: deps.store,
    outageBudgetMs: deps.config.OUTAGE_BUDGET_SECONDS * 1000,
    now: deps.now ?? redisClock(deps.store.redis),
  };
  const lockMs = deps.config.FINALIZER_LOCK_SECONDS * 1000;
  return async (job: FinalizeJobLike, token?: string): Promise<string> => {
    const { datasetId, generation } = job.data;
    const log = deps.log.child({ datasetId, jobId: job.id, generation });
    const dataset = await deps.store.getDataset(datasetId);
    if (!dataset) throw new UnrecoverableError(`dataset ${datasetId} no longer exists`);
    if (dataset.generation !== generation || dataset.status !== 'finalizing')
      return 'stale finalize (superseded)';
    const views = await deps.store.listViews(datasetId);
    const done = views.filter((v) => v.state === 'done').length;
    const guard = finalizeGuard(deps.store, job, token, lockMs);
    const exported: ExportProgress = { claimed: false };
    try {
      if (done === 0) throw new UnrecoverableError('no view was written: nothing to finalize');
      const startedAt = performance.now();
      if (!job.data.published) {
        // The volume not mounted is an outage, not every view lost.
        prepareOutputFolder(deps.config.OUTPUT_DIR, dataset.files.h5);
        await guard('writing the master and the XML');
        const checks = deps.checkFiles && guardedChecks(deps.checkFiles, guard);
        const report = await writeDatasetFiles(dataset, views, checks);
        if (!report.ok) return await failUnverified(deps, dataset, views, generation, report, guard, log);
        await guard('exporting');
        // A later attempt (after an outage of the object store) exports without reading back again.
        await job.updateData({ ...job.data, published: true });
      }
      const filesSeconds = (performance.now() - startedAt) / 1000;
      const files: DatasetFiles = { h5: dataset.files.h5, xml: dataset.files.xml };
      const bucket = deps.config.OUTPUT_BUCKET;
      if (bucket)
        Object.assign(files, await exportOrRefuse(deps.config, bucket, dataset, views, guard, exported));
      if (!(await deps.store.completeFinalize(datasetId, generation, files))) {
        await guard('marking it complete'); // says why: cancelled, gone, superseded
        throw new Error('the dataset could not be marked complete');
      }
      // Where a finalize's time went: verification + master + XML, then the export (operators, bench).
      const seconds = { files: filesSeconds, export: (performance.now() - startedAt) / 1000 - filesSeconds };
      if (job.data.outageSince !== undefined) log.info('outage over: dataset finalized');
      log.info({ views: done, missing: views.length - done, files, seconds }, 'dataset complete');
      await announceSafely(deps, datasetId, generation, log);
      return 'complete';
    } catch (thrown) {
      if (thrown instanceof FinalizeStopped)
        return endStoppedFinalize(deps.config, dataset, views, thrown, exported, log);
      let error = permanentAsUnrecoverable(thrown);
      if (isFileLocked(error)) {
        // A writer (perhaps paused) still holds the single file: verify once it lets go.
        log.info('dataset file busy: finalize delayed');
        await job.moveToDelayed(Date.now() + 2000, token);
        throw new DelayedError();
      }
      const down = error instanceof UnrecoverableError ? undefined : outageOf(error);
      if (down) {
        await waitOutFinalizeOutage(outage, job, token, down, log); // returns once the budget is spent
        error = new UnrecoverableError(down.message);
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

/** The export; another's objects under its name, or credentials refused, fail the finalize at once. */
async function exportOrRefuse(
  config: ClusterConfig,
  bucket: string,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
  guard: FinalizeGuard,
  exported: ExportProgress,
): Promise<Partial<DatasetFiles>> {
  return exportDatasetFiles(s3SettingsOf(config), bucket, dataset, views, guard, exported).catch(
    (error: unknown) => {
      // Another's objects under the export's name, or credentials that may not read them,
      // stay so whatever the number of tries.
      if (error instanceof StorageError && (error.code === 'CONFLICT' || error.code === 'DENIED'))
        throw new UnrecoverableError(`export: ${error.message}`);
      throw error;
    },
  );
}

/**
 * Never `complete` over pixels that do not read back as written. Written views that do not (a
 * partition deleted or damaged since its writer recorded it) become failed views, each saying
 * what was found, and the dataset `failed` with them: the facility sees the loss, `POST …/retry`
 * writes them again from their sources and the dataset finalizes anew (or a new finalize publishes
 * it with them as MissingViews). Problems of the dataset as a whole fail the finalize as before.
 */
async function failUnverified(
  deps: FinalizerDeps,
  dataset: DatasetRecord,
  views: readonly ViewEntry[],
  generation: number,
  report: VerifyReport,
  guard: FinalizeGuard,
  log: Logger,
): Promise<string> {
  const lost = unverifiedViews(report, views);
  const problems = `verification failed: ${verificationProblems(report).slice(0, 20).join('; ')}`;
  if (lost.length === 0) throw new UnrecoverableError(problems);
  const reason =
    `${problems} — ${lost.length} written view(s) did not read back and are failed now: ` +
    `retry them (POST …/views/:viewKey/retry, bdv retry), or finalize again to publish the dataset without them`;
  if (!(await deps.store.failUnverifiedViews(dataset.id, generation, reason, lost))) {
    await guard('failing the views that did not read back');
    throw new Error('the views that did not read back could not be marked failed');
  }
  log.error(
    { views: lost.map((v) => v.viewKey), reason },
    'finalize failed: written views did not read back',
  );
  await announceSafely(deps, dataset.id, generation, log);
  return 'failed (views did not read back)';
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
  const permanent =
    (error instanceof BdvError && PERMANENT_CODES.has(error.code)) ||
    (error instanceof ViewTaskError && error.permanent); // the dataset's files not under OUTPUT_DIR
  return permanent ? new UnrecoverableError((error as Error).message) : error;
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
