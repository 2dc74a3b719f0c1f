import type { AnnounceOutcome, DatasetStore, FinalizeJob } from '@bdv-cluster/pipeline';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { announceSafely } from './finalize-processor.js';

export type EndedFinalize = Pick<Job<FinalizeJob>, 'id' | 'data' | 'getState' | 'failedReason'>;

/**
 * A finalize job that failed for good — in the processor or by BullMQ itself after its finalizer
 * died too often — marks its generation `failed` with the reason, instead of leaving the dataset
 * `finalizing` forever. `POST …/finalize` then starts a new generation.
 */
export async function settleIfFinalizeAbandoned(
  store: Pick<DatasetStore, 'failFinalize'>,
  job: EndedFinalize | undefined,
  log: Logger,
  announce?: Pick<AnnounceOutcome, 'execute'>,
): Promise<void> {
  if (!job) return;
  try {
    if ((await job.getState()) !== 'failed') return;
    const reason = job.failedReason || 'the finalize job failed';
    if (await store.failFinalize(job.data.datasetId, job.data.generation, reason)) {
      log.warn({ jobId: job.id, reason }, 'finalize failed for good');
      if (announce) await announceSafely({ announce }, job.data.datasetId, job.data.generation, log);
    }
  } catch (e) {
    log.error({ jobId: job.id, reason: (e as Error).message }, 'could not settle an abandoned finalize');
  }
}
