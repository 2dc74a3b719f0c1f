import { resolveCompression, resolveLevels, setupCount } from '@bdv-cluster/bdv';
import {
  DatasetLock,
  s3SettingsOf,
  type ClusterConfig,
  type ClusterQueues,
  type DatasetStore,
  type WriteViewJob,
} from '@bdv-cluster/pipeline';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { WriteTaskError, type WriteThreadPool } from './run-write-thread.js';

export interface WriterDeps {
  config: ClusterConfig;
  store: DatasetStore;
  queues: ClusterQueues;
  threads: WriteThreadPool;
  log: Logger;
}

/** How long a job waits before trying a busy dataset again (jittered, so writers spread out). */
const busyDelayMs = () => 500 + Math.floor(Math.random() * 1000);

/**
 * One write-view job: take the dataset's write lock (single layout) or give the slot back and
 * retry later, stream the view into the file in a worker thread, then mark it done — which may
 * trigger the dataset's one finalize.
 */
export function writeViewProcessor(deps: WriterDeps) {
  return async (job: Job<WriteViewJob>, token?: string): Promise<string> => {
    const { datasetId, viewKey } = job.data;
    const log = deps.log.child({ datasetId, viewKey, jobId: job.id });
    const dataset = await deps.store.getDataset(datasetId);
    const view = await deps.store.getView(datasetId, viewKey);
    if (!dataset || !view)
      throw new UnrecoverableError(`dataset ${datasetId} or view ${viewKey} no longer exists`);
    if (view.state === 'done') return 'already written';

    const lock =
      dataset.spec.layout === 'single'
        ? await DatasetLock.tryAcquire(deps.store.redis, deps.store.keys.lock(datasetId))
        : undefined;
    if (dataset.spec.layout === 'single' && !lock) {
      await job.moveToDelayed(Date.now() + busyDelayMs(), token);
      throw new DelayedError();
    }
    try {
      const started = await deps.store.startView(datasetId, viewKey);
      if (started !== 'OK') return `skipped (${started})`;
      log.info({ source: view.spec.source.uri, attempt: job.attemptsMade + 1 }, 'writing view');
      const result = await deps.threads.run(
        {
          h5Path: dataset.files.h5,
          layout: dataset.spec.layout,
          setupCount: setupCount(dataset.spec.setup),
          levels: resolveLevels(dataset.spec.subsamplingZyx, dataset.spec.blockSizeZyx),
          compression: resolveCompression(dataset.spec.compression, dataset.spec.compressionLevel),
          spec: view.spec,
          setupId: view.setupId,
          s3: s3SettingsOf(deps.config),
          fileRoots: deps.config.FILE_SOURCE_ROOTS,
        },
        (p) => void job.updateProgress(Math.round((100 * p.bytesDone) / Math.max(1, p.bytesTotal))),
      );
      if (lock && !lock.held) throw new Error('lost the dataset write lock while writing');
      const generation = await deps.store.completeView(datasetId, viewKey, result);
      log.info(
        { bytes: result.bytes, seconds: result.seconds, mbPerS: result.bytes / 1e6 / result.seconds },
        'view written',
      );
      if (generation !== undefined) {
        await deps.queues.enqueueFinalize(datasetId, generation);
        log.info({ generation }, 'all views settled: finalize queued');
      }
      return 'written';
    } catch (error) {
      const permanent = error instanceof WriteTaskError && error.permanent;
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const reason = (error as Error).message;
      if (permanent || lastAttempt) {
        log.warn({ reason, permanent }, 'view failed');
        const generation = await deps.store.failView(datasetId, viewKey, reason);
        if (generation !== undefined) await deps.queues.enqueueFinalize(datasetId, generation);
        throw permanent ? new UnrecoverableError(reason) : error;
      }
      log.warn({ reason, attempt: job.attemptsMade + 1 }, 'view write failed, will retry');
      throw error;
    } finally {
      await lock?.release();
    }
  };
}
