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
