import type { ViewSpec } from '@bdv-cluster/contract';
import type { DatasetSpec } from '@bdv-cluster/contract';
import type { NotifyJob } from './queues.js';
import type {
  AddViewOutcome,
  CancelOutcome,
  DatasetFiles,
  DatasetRecord,
  FinalizeOptions,
  FinalizeRefusal,
  PyramidChoice,
  RetryOutcome,
  ViewEntry,
  ViewResult,
  ViewState,
} from './state-model.js';

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
  requestFinalize(
    datasetId: string,
    options: FinalizeOptions,
    admittedSeen?: number,
  ): Promise<number | FinalizeRefusal | undefined>;
  getView(datasetId: string, viewKey: string): Promise<ViewEntry | undefined>;
  cancelDataset(datasetId: string, purge: boolean): Promise<CancelOutcome>;
  cancelView(datasetId: string, viewKey: string): Promise<boolean>;
  finishCancel(datasetId: string, name: string): Promise<boolean>;
  retryView(datasetId: string, viewKey: string): Promise<RetryOutcome>;
  choosePyramid(datasetId: string, spec: DatasetSpec, choice: PyramidChoice): Promise<boolean>;
  viewKeysIn(datasetId: string, state: ViewState): Promise<string[]>;
}

/** What the use cases need of the job queues (implemented by ClusterQueues over BullMQ). */
export interface JobQueuePort {
  /** Adds one write job per view (ids deterministic: a repeat never queues a view twice). */
  enqueueWrites(datasetId: string, views: readonly { viewKey: string; reopened: boolean }[]): Promise<void>;
  enqueueFinalize(datasetId: string, generation: number): Promise<void>;
  /** False when the finalize job of that generation is gone or failed (e.g. stalled for good). */
  finalizeJobAlive(datasetId: string, generation: number): Promise<boolean>;
  /** True while a writer holds the view's job (BullMQ `active`). */
  writeJobActive(datasetId: string, viewKey: string): Promise<boolean>;
  /** True while a finalizer holds that generation's job. */
  finalizeJobActive(datasetId: string, generation: number): Promise<boolean>;
  /** Removes the views' jobs that no writer holds (waiting, delayed, finished); best effort. */
  removeWrites(datasetId: string, viewKeys: readonly string[]): Promise<void>;
  /** Removes that generation's finalize job unless a finalizer holds it; best effort. */
  removeFinalize(datasetId: string, generation: number): Promise<void>;
  enqueueNotify(job: NotifyJob): Promise<void>;
}
