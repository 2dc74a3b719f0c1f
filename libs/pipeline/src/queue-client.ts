import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import type { JobQueuePort } from './ports.js';
import {
  FINALIZE_QUEUE,
  finalizeJobId,
  NOTIFY_ATTEMPTS,
  NOTIFY_QUEUE,
  notifyJobId,
  WRITE_ATTEMPTS,
  WRITE_QUEUE,
  writeJobId,
  type FinalizeJob,
  type NotifyJob,
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

const NOTIFY_JOB_OPTIONS: JobsOptions = {
  attempts: NOTIFY_ATTEMPTS,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};

/** BullMQ takes this many jobs per round trip. */
const BULK = 1000;

/** The queues as producers see them (the API, writers that trigger a finalize, the finalizer). */
export class ClusterQueues implements JobQueuePort {
  readonly write: Queue<WriteViewJob>;
  readonly finalize: Queue<FinalizeJob>;
  readonly notify: Queue<NotifyJob>;

  constructor(connection: ConnectionOptions, prefix = 'bdv') {
    this.write = new Queue<WriteViewJob>(WRITE_QUEUE, { connection, prefix });
    this.finalize = new Queue<FinalizeJob>(FINALIZE_QUEUE, { connection, prefix });
    this.notify = new Queue<NotifyJob>(NOTIFY_QUEUE, { connection, prefix });
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

  async writeJobActive(datasetId: string, viewKey: string): Promise<boolean> {
    const job = await this.write.getJob(writeJobId(datasetId, viewKey));
    return job ? (await job.getState()) === 'active' : false;
  }

  async finalizeJobActive(datasetId: string, generation: number): Promise<boolean> {
    const job = await this.finalize.getJob(finalizeJobId(datasetId, generation));
    return job ? (await job.getState()) === 'active' : false;
  }

  async removeWrites(datasetId: string, viewKeys: readonly string[]): Promise<void> {
    for (const viewKey of viewKeys) await removeUnlessActive(this.write, writeJobId(datasetId, viewKey));
  }

  async removeFinalize(datasetId: string, generation: number): Promise<void> {
    await removeUnlessActive(this.finalize, finalizeJobId(datasetId, generation));
  }

  async enqueueNotify(job: NotifyJob): Promise<void> {
    await this.notify.add('notify', job, {
      jobId: notifyJobId(job.datasetId, job.generation, job.status),
      ...NOTIFY_JOB_OPTIONS,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.write.close(), this.finalize.close(), this.notify.close()]);
  }

  private async removeFinished(jobId: string): Promise<void> {
    const previous = await this.write.getJob(jobId);
    if (previous && ((await previous.isFailed()) || (await previous.isCompleted()))) await previous.remove();
  }
}

/**
 * Removes a job unless a worker holds it (BullMQ refuses to remove a locked job: that one ends by
 * itself, its state transition refused). Best effort: the state refuses a cancelled view anyway.
 */
async function removeUnlessActive(queue: Queue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (!job || (await job.getState()) === 'active') return;
  try {
    await job.remove();
  } catch {
    // taken by a worker meanwhile: START_VIEW / the finalize's status check turns it away
  }
}
