import type { ViewSpec } from '@bdv-cluster/contract';
import { PipelineError } from '../pipeline-error.js';
import type { JobQueuePort, ViewStatePort } from '../ports.js';
import type { DatasetRecord } from '../state-model.js';

export interface SubmittedView {
  viewKey: string;
  jobId: string;
}

export interface RefusedView extends SubmittedView {
  reason: 'NO_DATASET' | 'FINALIZED' | 'DUPLICATE' | 'CANCELLED';
  /** The state that refused it (the view's, or the dataset's). */
  state: string;
}

export interface SubmitOutcome {
  queued: SubmittedView[];
  refused: RefusedView[];
}

/**
 * Records views as queued and queues their write jobs — for a single POST, an upload and a batch
 * alike. One compensation rule: if the jobs cannot be queued, every view recorded here is failed
 * with that reason (a `queued` view without a job would keep its dataset from ever finalizing)
 * and the caller gets UNAVAILABLE, so resubmitting works.
 */
export class SubmitViews {
  constructor(
    private readonly store: Pick<ViewStatePort, 'addView' | 'failView'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueWrites'>,
  ) {}

  /** `reopen`: a batch re-run may add views to a dataset whose finalize was requested. */
  async execute(dataset: DatasetRecord, views: readonly ViewSpec[], reopen = false): Promise<SubmitOutcome> {
    const outcome: SubmitOutcome = { queued: [], refused: [] };
    const recorded: { viewKey: string; reopened: boolean }[] = [];
    for (const view of views) {
      let added;
      try {
        added = await this.store.addView(dataset, view, reopen);
      } catch (error) {
        // The views recorded so far have no job yet: fail them too, or the dataset never settles.
        const reason = `not queued: ${(error as Error).message}`;
        await Promise.allSettled(recorded.map((v) => this.store.failView(dataset.id, v.viewKey, reason)));
        throw error;
      }
      if (!added.ok) {
        outcome.refused.push({
          viewKey: added.viewKey,
          jobId: added.jobId,
          reason: added.reason,
          state: added.state,
        });
        continue;
      }
      recorded.push({ viewKey: added.viewKey, reopened: added.reopened });
      outcome.queued.push({ viewKey: added.viewKey, jobId: added.jobId });
    }
    if (recorded.length === 0) return outcome;
    try {
      await this.queues.enqueueWrites(dataset.id, recorded);
    } catch (error) {
      const reason = `could not be queued: ${(error as Error).message}`;
      // Failing a view whose job did get queued is harmless: that job finds it failed and stops.
      await Promise.allSettled(recorded.map((v) => this.store.failView(dataset.id, v.viewKey, reason)));
      throw new PipelineError(
        'UNAVAILABLE',
        `${recorded.length} view(s) could not be queued (${(error as Error).message}); submit them again`,
      );
    }
    return outcome;
  }
}
