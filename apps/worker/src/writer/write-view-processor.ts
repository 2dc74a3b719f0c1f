import {
  commitViewTask,
  discardViewTask,
  failureKindOf,
  type TaskProgress,
  type ViewTask,
  type ViewTaskResult,
} from '@bdv-cluster/convert';
import type {
  DatasetRecord,
  DatasetStore,
  SettleView,
  ViewEntry,
  ViewResult,
  WriteViewJob,
} from '@bdv-cluster/pipeline';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';

/** The dataset write lock of the single layout (scheduling only: the file has its own fence). */
export interface WriteLock {
  release(): Promise<void>;
}

export interface WriterDeps {
  store: Pick<DatasetStore, 'getDataset' | 'getView' | 'startView'>;
  settle: Pick<SettleView, 'done' | 'failed'>;
  tryLock(datasetId: string): Promise<WriteLock | undefined>;
  taskOf(dataset: DatasetRecord, view: ViewEntry): ViewTask;
  runTask(task: ViewTask, onProgress: (p: TaskProgress) => void): Promise<ViewTaskResult>;
  log: Logger;
}

export type WriteJob = Pick<
  Job<WriteViewJob>,
  'id' | 'data' | 'attemptsMade' | 'opts' | 'moveToDelayed' | 'updateProgress' | 'extendLock'
>;

/** How long a job waits before trying a busy dataset again (jittered, so writers spread out). */
const busyDelayMs = () => 500 + Math.floor(Math.random() * 1000);

/** The job's lock is renewed to this when checked before a commit. */
const COMMIT_LOCK_MS = 60_000;

/**
 * One write-view job: take the dataset's write lock (single layout) or give the slot back and
 * retry later; convert the view on a worker thread; make its output visible only if the job is
 * still ours; settle it done or failed.
 */
export function writeViewProcessor(deps: WriterDeps) {
  return async (job: WriteJob, token?: string): Promise<string> => {
    const { datasetId, viewKey } = job.data;
    const log = deps.log.child({ datasetId, viewKey, jobId: job.id });
    const dataset = await deps.store.getDataset(datasetId);
    const view = await deps.store.getView(datasetId, viewKey);
    if (!dataset || !view)
      throw new UnrecoverableError(`dataset ${datasetId} or view ${viewKey} no longer exists`);
    if (view.state === 'done') return 'already written';

    const lock = dataset.spec.layout === 'single' ? await deps.tryLock(datasetId) : undefined;
    if (dataset.spec.layout === 'single' && !lock) return delay(job, token);
    try {
      const started = await deps.store.startView(datasetId, viewKey);
      if (started !== 'OK') return `skipped (${started})`;
      log.info({ source: view.spec.source.uri, attempt: job.attemptsMade + 1 }, 'writing view');
      const task = deps.taskOf(dataset, view);
      const result = await deps.runTask(
        task,
        (p) => void job.updateProgress(Math.round((100 * p.bytesDone) / Math.max(1, p.bytesTotal))),
      );
      if (!(await stillOurs(job, token))) {
        // Paused past our lease: another writer owns the view now. Its output counts, not ours.
        discardViewTask(result);
        log.warn('superseded while writing: output discarded');
        return 'superseded';
      }
      const partition = commitViewTask(task, result);
      const { record, checksums, bytes, seconds } = result;
      const settled: ViewResult = { record, checksums, bytes, seconds, ...(partition ? { partition } : {}) };
      const generation = await deps.settle.done(datasetId, viewKey, settled);
      log.info({ bytes, seconds, mbPerS: bytes / 1e6 / seconds }, 'view written');
      if (generation !== undefined) log.info({ generation }, 'all views settled: finalize queued');
      return 'written';
    } catch (error) {
      if (failureKindOf(error) === 'busy') return delay(job, token);
      throw await settleFailure(deps, job, error, log);
    } finally {
      await lock?.release();
    }
  };
}

/** Back to the delayed set without spending an attempt (the slot is free for other work). */
async function delay(job: WriteJob, token?: string): Promise<never> {
  await job.moveToDelayed(Date.now() + busyDelayMs(), token);
  throw new DelayedError();
}

/** True while BullMQ still counts this worker as the job's owner (renewing the lock). */
async function stillOurs(job: WriteJob, token?: string): Promise<boolean> {
  if (!token) return true;
  return Number(await job.extendLock(token, COMMIT_LOCK_MS)) === 1;
}

/** Bad input fails the view at once; anything else is retried until the last attempt. */
async function settleFailure(deps: WriterDeps, job: WriteJob, error: unknown, log: Logger): Promise<unknown> {
  const { datasetId, viewKey } = job.data;
  const permanent = failureKindOf(error) === 'permanent';
  const reason = (error as Error).message;
  if (permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
    log.warn({ reason, permanent }, 'view failed');
    await deps.settle.failed(datasetId, viewKey, reason);
    return permanent ? new UnrecoverableError(reason) : error;
  }
  log.warn({ reason, attempt: job.attemptsMade + 1 }, 'view write failed, will retry');
  return error;
}
