import { basename } from 'node:path';
import { PipelineError } from '../pipeline-error.js';
import type { JobQueuePort, ViewStatePort } from '../ports.js';
import type { DatasetRecord } from '../state-model.js';

export interface CancelResult {
  dataset: DatasetRecord;
  /** Views whose writers had not stopped within the wait: the dataset stays `cancelling`. */
  stillRunning: string[];
}

export interface CancelTiming {
  /** How long to wait for running views (and a running finalize) to stop, and for the file fence. */
  waitMs: number;
  pollMs: number;
}

/**
 * DELETE /v1/datasets/:id[?purge=true]. In order, each step safe to repeat (DELETE again finishes
 * what one left):
 * 1. the dataset becomes `cancelling` atomically (a `complete` one only with purge): no view is
 *    added, started, finalized or retried any more; queued views are `cancelled`;
 * 2. their jobs, and a finalize job no finalizer holds, leave the queues;
 * 3. running views stop at their next slab (their writer sees `cancelling`, see the writer's
 *    cancel watch) — a single-layout append is rolled back, a staged partition discarded — and
 *    are `cancelled`; a view whose job no writer holds any more (dead writer, delayed retry) is
 *    cancelled here. Waits up to `waitMs`; views still running then are returned, nothing removed;
 * 4. the outputs are removed (the single .h5 under its write fence);
 * 5. `cancelled`, and the name is free for a new dataset.
 */
export class CancelDataset {
  constructor(
    private readonly store: Pick<
      ViewStatePort,
      'getDataset' | 'cancelDataset' | 'cancelView' | 'finishCancel' | 'viewKeysIn'
    >,
    private readonly queues: Pick<
      JobQueuePort,
      'removeWrites' | 'removeFinalize' | 'writeJobActive' | 'finalizeJobActive'
    >,
    private readonly removeOutputs: (dataset: DatasetRecord, waitSeconds: number) => Promise<void>,
    private readonly timing: CancelTiming = { waitMs: 60_000, pollMs: 250 },
  ) {}

  async execute(datasetId: string, purge: boolean): Promise<CancelResult> {
    const outcome = await this.store.cancelDataset(datasetId, purge);
    if (!outcome.ok) {
      if (outcome.reason === 'NO_DATASET')
        throw new PipelineError('NOT_FOUND', `dataset ${datasetId} does not exist`, 'id');
      if (outcome.reason === 'COMPLETE')
        throw new PipelineError(
          'CONFLICT',
          `dataset ${datasetId} is complete: DELETE /v1/datasets/${datasetId}?purge=true removes it and its files`,
          'purge',
        );
      return { dataset: (await this.store.getDataset(datasetId))!, stillRunning: [] };
    }
    await this.queues.removeWrites(datasetId, outcome.cancelledQueued);
    await this.queues.removeFinalize(datasetId, outcome.generation);
    const stillRunning = await this.waitForWriters(datasetId, outcome.generation);
    const dataset = (await this.store.getDataset(datasetId))!;
    if (stillRunning.length > 0) return { dataset, stillRunning };
    try {
      await this.removeOutputs(dataset, Math.ceil(this.timing.waitMs / 1000));
    } catch (error) {
      // Another process still holds the single file's fence (a paused writer, a long preview
      // read): nothing was removed; DELETE again once it lets go.
      if ((error as { code?: string }).code !== 'FILE_LOCKED') throw error;
      return { dataset, stillRunning: [`(${basename(dataset.files.h5)} is held by another process)`] };
    }
    if (!(await this.store.finishCancel(datasetId, dataset.name))) {
      // a view started meanwhile (it cannot: START_VIEW refuses), or DELETE raced another DELETE
      const running = await this.store.viewKeysIn(datasetId, 'running');
      return { dataset: (await this.store.getDataset(datasetId))!, stillRunning: running };
    }
    return { dataset: (await this.store.getDataset(datasetId))!, stillRunning: [] };
  }

  /** Polls until no view runs and no finalize is in hand; returns the views still running then. */
  private async waitForWriters(datasetId: string, generation: number): Promise<string[]> {
    const deadline = Date.now() + this.timing.waitMs;
    for (;;) {
      const running = await this.store.viewKeysIn(datasetId, 'running');
      const held: string[] = [];
      for (const viewKey of running) {
        if (await this.queues.writeJobActive(datasetId, viewKey)) held.push(viewKey);
        else {
          // no writer holds it (it died, or the job waits for a retry): it will not write again
          await this.queues.removeWrites(datasetId, [viewKey]);
          await this.store.cancelView(datasetId, viewKey);
        }
      }
      const finalizing = await this.queues.finalizeJobActive(datasetId, generation);
      if (held.length === 0 && !finalizing) return [];
      if (Date.now() > deadline) return held.length > 0 ? held : ['(finalize)'];
      await new Promise((r) => setTimeout(r, this.timing.pollMs));
    }
  }
}
