import { PipelineError } from '../pipeline-error.js';
import type { JobQueuePort, ViewStatePort } from '../ports.js';
import type { FinalizeOptions } from '../state-model.js';

/**
 * Asks for a dataset's XML: queued now if every view has settled, else by the last one to settle.
 * A dataset stuck in `finalizing` whose finalize job is gone (its finalizer crashed more often
 * than allowed) gets that generation's job again: asking twice is how a user un-sticks it.
 */
export class RequestFinalize {
  constructor(
    private readonly store: Pick<ViewStatePort, 'requestFinalize' | 'getDataset'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueFinalize' | 'finalizeJobAlive'>,
  ) {}

  /**
   * `admittedSeen`: the count of views added or retried that the caller's own checks saw
   * (`latestLiveViewTime`); when views came since, nothing is recorded and 'CHANGED' is returned
   * for the caller to check again.
   */
  async execute(
    datasetId: string,
    options: FinalizeOptions = {},
    admittedSeen?: number,
  ): Promise<number | 'CHANGED' | undefined> {
    const generation = await this.store.requestFinalize(datasetId, options, admittedSeen);
    if (generation === 'CANCELLED')
      throw new PipelineError('CONFLICT', `dataset ${datasetId} is cancelled: nothing to finalize`, 'id');
    if (generation === 'NO_VIEWS')
      throw new PipelineError(
        'CONFLICT',
        `dataset ${datasetId} has no views yet: submit or upload at least one before finalizing (a finalized dataset takes no more)`,
        'id',
      );
    if (generation === 'CHANGED') return generation;
    if (generation !== undefined) {
      await this.queues.enqueueFinalize(datasetId, generation);
      return generation;
    }
    const dataset = await this.store.getDataset(datasetId);
    if (
      dataset?.status === 'finalizing' &&
      !(await this.queues.finalizeJobAlive(datasetId, dataset.generation))
    ) {
      await this.queues.enqueueFinalize(datasetId, dataset.generation);
      return dataset.generation;
    }
    return undefined;
  }
}
