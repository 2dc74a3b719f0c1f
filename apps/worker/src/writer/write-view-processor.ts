import {
  commitViewTask,
  discardViewTask,
  failureKindOf,
  type TaskProgress,
  type ViewTask,
  type ViewTaskResult,
} from '@bdv-cluster/convert';
import { autoPyramidFields } from '@bdv-cluster/contract';
import {
  ChoosePyramid,
  type DatasetRecord,
  type DatasetStore,
  type SettleView,
  type ViewEntry,
  type ViewResult,
  type WriteViewJob,
} from '@bdv-cluster/pipeline';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { progressReporter } from './job-progress.js';
import { settleLostJob } from './lost-job.js';
import { waitOutOutage, type OutageTrack } from '../outage/outage-wait.js';

/** The dataset write lock of the single layout (scheduling only: the file has its own fence). */
export interface WriteLock {
  release(): Promise<void>;
}

export interface WriterDeps {
  store: Pick<
    DatasetStore,
    'getDataset' | 'getView' | 'startView' | 'noteWaiting' | 'statusOf' | 'cancelView' | 'choosePyramid'
  >;
  settle: Pick<SettleView, 'done' | 'failed'>;
  tryLock(datasetId: string): Promise<WriteLock | undefined>;
  taskOf(dataset: DatasetRecord, view: ViewEntry): ViewTask;
  /** The view's stack shape from its header (an "auto" pyramid is chosen from the first view). */
  shapeOf(view: ViewEntry): Promise<readonly number[]>;
  /** Runs the task on a thread; `signal` stops it between slabs (the view is undone). */
  runTask(
    task: ViewTask,
    onProgress: (p: TaskProgress) => void,
    signal: AbortSignal,
  ): Promise<ViewTaskResult>;
  /** How often a running view checks whether its dataset is being cancelled (default 1 s). */
  cancelPollMs?: number;
  /** How long a view may wait for an unreachable store or a full volume before it fails. */
  outageBudgetMs: number;
  /** The cluster's clock in ms (Redis's), the same for every writer: outages are timed on it. */
  now(): Promise<number>;
  log: Logger;
}

export type WriteJob = Pick<
  Job<WriteViewJob & OutageTrack>,
  | 'id'
  | 'data'
  | 'attemptsMade'
  | 'opts'
  | 'moveToDelayed'
  | 'updateProgress'
  | 'extendLock'
  | 'updateData'
  | 'getState'
>;

/** How long a job waits before trying a busy dataset again (jittered, so writers spread out). */
const busyDelayMs = () => 500 + Math.floor(Math.random() * 1000);

/** The job's lock is renewed to this when checked before a commit. */
const COMMIT_LOCK_MS = 60_000;

/**
 * One write-view job: take the dataset's write lock (single layout) or give the slot back and
 * retry later; convert the view on a worker thread; make its output visible only if the job is
 * still ours; settle it done or failed. A view stops at its next slab and is undone when its
 * dataset is cancelled, and when its job is no longer this writer's: `lockLost` aborted (BullMQ
 * could not renew the job's lock) or a progress update finding the job gone from Redis.
 */
export function writeViewProcessor(deps: WriterDeps) {
  return async (job: WriteJob, token?: string, lockLost?: AbortSignal): Promise<string> => {
    const { datasetId, viewKey } = job.data;
    const log = deps.log.child({ datasetId, viewKey, jobId: job.id });
    const dataset = await deps.store.getDataset(datasetId);
    const view = await deps.store.getView(datasetId, viewKey);
    if (!dataset || !view)
      throw new UnrecoverableError(`dataset ${datasetId} or view ${viewKey} no longer exists`);
    if (view.state === 'done') return 'already written';

    const lock = dataset.spec.layout === 'single' ? await deps.tryLock(datasetId) : undefined;
    if (dataset.spec.layout === 'single' && !lock) return delay(job, token);
    const cancelWatch = watchForCancel(deps, datasetId);
    const lost = new AbortController();
    const loseJob = () => lost.abort();
    if (lockLost?.aborted) loseJob();
    lockLost?.addEventListener('abort', loseJob, { once: true });
    try {
      const started = await deps.store.startView(datasetId, viewKey);
      if (started !== 'OK') return `skipped (${started})`;
      log.info({ source: view.spec.source.uri, attempt: job.attemptsMade + 1 }, 'writing view');
      const chosen =
        autoPyramidFields(dataset.spec).length > 0
          ? await new ChoosePyramid(deps.store).execute(dataset, view, await deps.shapeOf(view))
          : dataset;
      if (chosen.pyramid?.fromView === viewKey)
        log.info({ pyramid: chosen.pyramid, levels: chosen.spec.subsamplingZyx }, 'auto pyramid chosen');
      const task = deps.taskOf(chosen, view);
      const result = await deps.runTask(
        task,
        progressReporter(job, log, loseJob),
        AbortSignal.any([cancelWatch.signal, lost.signal]),
      );
      if (cancelWatch.signal.aborted || (await deps.store.statusOf(datasetId)) === 'cancelling') {
        // Finished just as its dataset was cancelled: nothing of it is kept.
        discardViewTask(result);
        await deps.store.cancelView(datasetId, viewKey);
        log.info('dataset cancelled: finished view discarded');
        return 'cancelled';
      }
      if (lost.signal.aborted || !(await stillOurs(job, token))) {
        // Paused past our lease (another writer owns the view now: its output counts, not ours),
        // or the job is gone.
        discardViewTask(result);
        return settleLostJob(deps.settle, job, log, 'output discarded');
      }
      const partition = commitViewTask(task, result);
      const { record, checksums, bytes, seconds } = result;
      const settled: ViewResult = { record, checksums, bytes, seconds, ...(partition ? { partition } : {}) };
      if (job.data.outageSince !== undefined) log.info('outage over: view written');
      const generation = await deps.settle.done(datasetId, viewKey, settled);
      log.info({ bytes, seconds, mbPerS: bytes / 1e6 / seconds }, 'view written');
      if (generation !== undefined) log.info({ generation }, 'all views settled: finalize queued');
      return 'written';
    } catch (error) {
      const kind = failureKindOf(error);
      if (kind === 'cancelled' && !cancelWatch.signal.aborted) {
        // Stopped between slabs because the job is no longer ours; undone as a cancelled view is.
        return settleLostJob(deps.settle, job, log, 'view stopped and undone');
      }
      if (kind === 'cancelled') {
        // Stopped between slabs: the append was rolled back, or the staged partition deleted.
        await deps.store.cancelView(datasetId, viewKey);
        log.info('dataset cancelled: view stopped and undone');
        return 'cancelled';
      }
      if (kind === 'busy') return delay(job, token);
      if (kind === 'outage') {
        await waitOutOutage(deps, job, token, error as Error, log);
        await deps.settle.failed(datasetId, viewKey, (error as Error).message);
        throw new UnrecoverableError((error as Error).message);
      }
      throw await settleFailure(deps, job, error, log);
    } finally {
      cancelWatch.stop();
      lockLost?.removeEventListener('abort', loseJob);
      await lock?.release();
    }
  };
}

/**
 * Polls the dataset's status while its view is written; `signal` aborts once the dataset is being
 * cancelled (DELETE), and the task stops at its next slab.
 */
function watchForCancel(deps: WriterDeps, datasetId: string): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  const timer = setInterval(() => {
    deps.store.statusOf(datasetId).then(
      (status) => {
        if (status === 'cancelling' || status === 'cancelled' || status === undefined) controller.abort();
      },
      () => undefined, // Redis briefly away: the next poll asks again
    );
  }, deps.cancelPollMs ?? 1000);
  return { signal: controller.signal, stop: () => clearInterval(timer) };
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
