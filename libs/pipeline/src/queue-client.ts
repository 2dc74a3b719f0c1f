import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { JobQueuePort } from './ports.js';
import {
  FINALIZE_QUEUE,
  finalizeJobId,
  WRITE_ATTEMPTS,
  WRITE_QUEUE,
  writeJobId,
  type FinalizeJob,
  type WriteViewJob,
} from './queues.js';

const WRITE_JOB_OPTIONS: JobsOptions = {
  attempts: WRITE_ATTEMPTS,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

const FINALIZE_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** BullMQ takes this many jobs per round trip. */
const BULK = 1000;

/** The two queues as producers see them (the API, and writers that trigger a finalize). */
export class ClusterQueues implements JobQueuePort {
  readonly write: Queue<WriteViewJob>;
  readonly finalize: Queue<FinalizeJob>;

  constructor(connection: ConnectionOptions, prefix = 'bdv') {
    this.write = new Queue<WriteViewJob>(WRITE_QUEUE, { connection, prefix });
    this.finalize = new Queue<FinalizeJob>(FINALIZE_QUEUE, { connection, prefix });
  }

  async enqueueWrites(
    datasetId: string,
    views: readonly { viewKey: string; reopened: boolean }[],
  ): Promise<void> {
    // A resubmitted view's earlier job (failed, kept for inspection) would block the new one:
    // BullMQ ignores an add whose id already exists.
    await Promise.all(
      views.filter((v) => v.reopened).map((v) => this.removeFinished(writeJobId(datasetId, v.viewKey))),
    );
    for (let i = 0; i < views.length; i += BULK) {
      await this.write.addBulk(
        views.slice(i, i + BULK).map(({ viewKey }) => ({
          name: 'write-view',
          data: { datasetId, viewKey },
          opts: { jobId: writeJobId(datasetId, viewKey), ...WRITE_JOB_OPTIONS },
        })),
      );
    }
  }

  async enqueueFinalize(datasetId: string, generation: number): Promise<void> {
    // A finished job of the same generation (failed, stalled for good) would block the new one.
    const previous = await this.finalize.getJob(finalizeJobId(datasetId, generation));
    if (previous && ((await previous.isFailed()) || (await previous.isCompleted()))) await previous.remove();
    await this.finalize.add(
      'finalize',
      { datasetId, generation },
      { jobId: finalizeJobId(datasetId, generation), ...FINALIZE_JOB_OPTIONS },
    );
  }

  async finalizeJobAlive(datasetId: string, generation: number): Promise<boolean> {
    const job = await this.finalize.getJob(finalizeJobId(datasetId, generation));
    if (!job) return false;
    // A finished job while the dataset still says `finalizing` did not do its work either.
    return ['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(await job.getState());
  }

  async close(): Promise<void> {
    await Promise.all([this.write.close(), this.finalize.close()]);
  }

  private async removeFinished(jobId: string): Promise<void> {
    const previous = await this.write.getJob(jobId);
    if (previous && ((await previous.isFailed()) || (await previous.isCompleted()))) await previous.remove();
  }
}
