import { parseViewKey } from '@bdv-cluster/contract';
import { PipelineError } from '../pipeline-error.js';
import type { JobQueuePort, ViewStatePort } from '../ports.js';

/**
 * POST /v1/datasets/:id/views/:viewKey/retry: a failed view is queued again (its old job, kept
 * for inspection, is replaced), and the dataset — open, writing, failed or even complete — goes
 * back to `writing`; once the view settles the dataset finalizes again if its finalize was
 * requested (a complete one gets a new XML listing the view). Only failed views: done, queued and
 * running ones are 409, as is a dataset being finalized (retry when it is complete) or cancelled.
 */
export class RetryView {
  constructor(
    private readonly store: Pick<ViewStatePort, 'retryView' | 'failView'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueWrites'>,
  ) {}

  async execute(datasetId: string, viewKey: string): Promise<void> {
    const outcome = await this.store.retryView(datasetId, viewKey);
    if (!outcome.ok) {
      const { reason, state } = outcome;
      if (reason === 'NO_DATASET')
        throw new PipelineError('NOT_FOUND', `dataset ${datasetId} does not exist`, 'id');
      if (reason === 'NO_VIEW')
        throw new PipelineError(
          'NOT_FOUND',
          `view ${viewKey} was never submitted to dataset ${datasetId}`,
          'viewKey',
        );
      if (reason === 'NOT_FAILED')
        throw new PipelineError(
          'CONFLICT',
          `view ${viewKey} is ${state}: only a failed view is retried`,
          'viewKey',
        );
      // A dataset finalized with `timepoints` writes its XML again with them once the view settles:
      // a view past them would fail that finalize (and the dataset). Checked in the same Redis step
      // that queues the view, so a finalize recorded meanwhile cannot slip between the two. A failed
      // view may lie past them, since failed views are missing from the XML whatever the timepoints.
      if (reason === 'PAST_TIMEPOINTS')
        throw new PipelineError(
          'CONFLICT',
          `view ${viewKey} has time ${parseViewKey(viewKey)?.time}, past the ${state} timepoints dataset ${datasetId} was finalized with: it cannot be added to its XML`,
          'viewKey',
        );
      if (reason === 'FINALIZING')
        throw new PipelineError(
          'CONFLICT',
          `dataset ${datasetId} is finalizing: retry the view once it is complete or failed`,
          'id',
        );
      throw new PipelineError('CONFLICT', `dataset ${datasetId} is ${state}: nothing is retried`, 'id');
    }
    try {
      await this.queues.enqueueWrites(datasetId, [{ viewKey, reopened: true }]);
    } catch (error) {
      // a queued view without a job would keep its dataset from ever finalizing
      await this.store.failView(datasetId, viewKey, `retry not queued: ${(error as Error).message}`);
      throw new PipelineError('UNAVAILABLE', `view ${viewKey} could not be queued again; retry later`);
    }
  }
}
