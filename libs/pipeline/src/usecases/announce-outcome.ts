import { datasetStatusJson } from '../dataset-status.js';
import type { JobQueuePort, ViewStatePort } from '../ports.js';

/**
 * A dataset became `complete` or `failed`: if it has a `notify` target, queue one notification
 * job carrying its status JSON as it is now (the notifier delivers it with retries and backoff on
 * its own queue, so a slow or dead receiver never holds up a finalize). Called right after the
 * transition; the job id is per generation and outcome, so calling twice queues one job.
 */
export class AnnounceOutcome {
  constructor(
    private readonly store: Pick<ViewStatePort, 'getDataset'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueNotify'>,
  ) {}

  /** True when a notification was queued. */
  async execute(datasetId: string, generation: number): Promise<boolean> {
    const dataset = await this.store.getDataset(datasetId);
    if (!dataset?.notify) return false;
    if (dataset.status !== 'complete' && dataset.status !== 'failed') return false;
    await this.queues.enqueueNotify({
      datasetId,
      generation,
      status: dataset.status,
      url: dataset.notify.url,
      body: JSON.stringify(datasetStatusJson(dataset)),
    });
    return true;
  }
}
