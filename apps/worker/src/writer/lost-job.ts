import type { SettleView, WriteViewJob } from '@bdv-cluster/pipeline';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/**
 * What a writer does once the job it worked on is no longer its own, its output already undone
 * (`undone`: a staged partition deleted, a single-layout append rolled back, or a finished view
 * discarded). Its lock went to another writer (it was paused past its lease): the view is that
 * writer's now, nothing is settled. Or the job is gone from Redis (the queue emptied or obliterated
 * from Bull Board, Redis restarted without its data): nobody holds it or ever will, so a view left
 * `writing` would keep its dataset from finalizing for ever — it is failed with the reason, and
 * `POST …/retry` queues it again.
 */
export async function settleLostJob(
  settle: Pick<SettleView, 'failed'>,
  job: Pick<Job<WriteViewJob>, 'id' | 'data' | 'getState'>,
  log: Logger,
  undone: string,
): Promise<'superseded' | 'removed'> {
  if ((await job.getState()) !== 'unknown') {
    log.warn(`superseded while writing: ${undone}`);
    return 'superseded';
  }
  const reason =
    `write job ${job.id} was removed from the queue while the view was written (queue emptied or ` +
    `obliterated, or Redis lost its data): the view was undone; retry it`;
  log.warn({ reason }, `write job removed while writing: ${undone}`);
  try {
    await settle.failed(job.data.datasetId, job.data.viewKey, reason);
  } catch (error) {
    log.error({ reason: (error as Error).message }, 'could not settle a view whose job was removed');
  }
  return 'removed';
}
