import type { SettleView, WriteViewJob } from '@bdv-cluster/pipeline';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

export type EndedJob = Pick<Job<WriteViewJob>, 'id' | 'data' | 'getState' | 'failedReason'>;

/**
 * A write job that failed for good — through the processor, or by BullMQ itself when its writer
 * stalled more often than allowed (killed again and again; BullMQ then emits only 'stalled') —
 * settles its view as failed with that reason, or the dataset would wait for it forever.
 * Settling twice is harmless (a settled view stays as it is); a job that will be retried is
 * left alone.
 */
export async function settleIfAbandoned(
  settle: Pick<SettleView, 'failed'>,
  job: EndedJob | undefined,
  log: Logger,
): Promise<void> {
  if (!job) return;
  try {
    if ((await job.getState()) !== 'failed') return;
    const reason = job.failedReason || 'the write job failed';
    log.warn({ jobId: job.id, reason }, 'write job failed for good');
    await settle.failed(job.data.datasetId, job.data.viewKey, reason);
  } catch (e) {
    log.error({ jobId: job.id, reason: (e as Error).message }, 'could not settle an abandoned view');
  }
}

/**
 * The 'stalled' path of the same: BullMQ moves a job that stalled too often back to the queue
 * marked to fail, and the next writer to take it fails it (with "job stalled more than allowable
 * limit"). A copy of the job read before that moment shows the failure in its state but not its
 * reason — settling with it would record a reasonless failure first (the first settle wins) — so
 * once the job is seen failed, it is read again.
 */
export async function settleIfStalledOut(
  settle: Pick<SettleView, 'failed'>,
  read: () => Promise<EndedJob | undefined>,
  log: Logger,
): Promise<void> {
  try {
    const job = await read();
    if (!job || (await job.getState()) !== 'failed') return; // retried, or settled on 'failed'
    await settleIfAbandoned(settle, job.failedReason ? job : ((await read()) ?? job), log);
  } catch (e) {
    log.error({ reason: (e as Error).message }, 'could not settle a stalled job');
  }
}
