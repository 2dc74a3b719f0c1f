import { Queue, type ConnectionOptions } from 'bullmq';
import {
  FINALIZE_QUEUE,
  finalizeJobId,
  WRITE_ATTEMPTS,
  WRITE_QUEUE,
  writeJobId,
  type FinalizeJob,
  type WriteViewJob,
} from './queues.js';

const WRITE_JOB_OPTIONS = {
  attempts: WRITE_ATTEMPTS,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** The two queues as producers see them (the API, and writers that trigger a finalize). */
export class ClusterQueues {
  readonly write: Queue<WriteViewJob>;
  readonly finalize: Queue<FinalizeJob>;

  constructor(connection: ConnectionOptions, prefix = 'bdv') {
    this.write = new Queue<WriteViewJob>(WRITE_QUEUE, { connection, prefix });
    this.finalize = new Queue<FinalizeJob>(FINALIZE_QUEUE, { connection, prefix });
  }

  async enqueueWrite(datasetId: string, viewKey: string): Promise<string> {
    const jobId = writeJobId(datasetId, viewKey);
    // A finished job with this id (from a failed attempt that is now resubmitted) would block the
    // new one: BullMQ ignores adds whose id already exists.
    const previous = await this.write.getJob(jobId);
    if (previous && ((await previous.isFailed()) || (await previous.isCompleted()))) await previous.remove();
    await this.write.add(
      'write-view',
      { datasetId, viewKey },
      {
        jobId,
        attempts: WRITE_ATTEMPTS,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    );
    return jobId;
  }

  /** Many views at once (batches): one round trip per 1,000 jobs. */
  async enqueueWriteBulk(datasetId: string, viewKeys: string[]): Promise<void> {
    for (let i = 0; i < viewKeys.length; i += 1000) {
      await this.write.addBulk(
        viewKeys.slice(i, i + 1000).map((viewKey) => ({
          name: 'write-view',
          data: { datasetId, viewKey },
          opts: { jobId: writeJobId(datasetId, viewKey), ...WRITE_JOB_OPTIONS },
        })),
      );
    }
  }

  async enqueueFinalize(datasetId: string, generation: number): Promise<void> {
    await this.finalize.add(
      'finalize',
      { datasetId, generation },
      {
        jobId: finalizeJobId(datasetId, generation),
        attempts: 3,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: { age: 30 * 24 * 3600 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.write.close(), this.finalize.close()]);
  }
}
