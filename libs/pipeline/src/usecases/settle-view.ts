import type { JobQueuePort, ViewStatePort } from '../ports.js';
import type { ViewResult } from '../state-model.js';

/**
 * A view's write ended: record it done or failed; when that settles the last open view of a
 * dataset whose finalize was requested, queue the one finalize the transition returned.
 */
export class SettleView {
  constructor(
    private readonly store: Pick<ViewStatePort, 'completeView' | 'failView'>,
    private readonly queues: Pick<JobQueuePort, 'enqueueFinalize'>,
  ) {}

  /** Returns the finalize generation it queued, if any. */
  async done(datasetId: string, viewKey: string, result: ViewResult): Promise<number | undefined> {
    return this.finalizeIfDue(datasetId, await this.store.completeView(datasetId, viewKey, result));
  }

  /** A failure no retry will fix: the view becomes a MissingView (no-op if already settled). */
  async failed(datasetId: string, viewKey: string, reason: string): Promise<number | undefined> {
    return this.finalizeIfDue(datasetId, await this.store.failView(datasetId, viewKey, reason));
  }

  private async finalizeIfDue(
    datasetId: string,
    generation: number | undefined,
  ): Promise<number | undefined> {
    if (generation !== undefined) await this.queues.enqueueFinalize(datasetId, generation);
    return generation;
  }
}
