import type { ViewSpec } from '@bdv-cluster/contract';
import type { AddViewOutcome } from './dataset-store.js';
import type { DatasetFiles, DatasetRecord, FinalizeOptions, ViewResult } from './state-model.js';

/**
 * What the use cases need of the dataset/view state (implemented by DatasetStore over Redis);
 * narrow on purpose, so the apps' glue can be tested in milliseconds with a fake.
 */
export interface ViewStatePort {
  createDataset(
    spec: DatasetRecord['spec'],
    files: DatasetFiles,
    batchId?: string,
  ): Promise<DatasetRecord | undefined>;
  idByName(name: string): Promise<string | undefined>;
  getDataset(id: string): Promise<DatasetRecord | undefined>;
  addView(dataset: DatasetRecord, spec: ViewSpec, reopen?: boolean): Promise<AddViewOutcome>;
  completeView(datasetId: string, viewKey: string, result: ViewResult): Promise<number | undefined>;
  failView(datasetId: string, viewKey: string, reason: string): Promise<number | undefined>;
  requestFinalize(datasetId: string, options: FinalizeOptions): Promise<number | undefined>;
}

/** What the use cases need of the job queues (implemented by ClusterQueues over BullMQ). */
export interface JobQueuePort {
  /** Adds one write job per view (ids deterministic: a repeat never queues a view twice). */
  enqueueWrites(datasetId: string, views: readonly { viewKey: string; reopened: boolean }[]): Promise<void>;
  enqueueFinalize(datasetId: string, generation: number): Promise<void>;
  /** False when the finalize job of that generation is gone or failed (e.g. stalled for good). */
  finalizeJobAlive(datasetId: string, generation: number): Promise<boolean>;
}
