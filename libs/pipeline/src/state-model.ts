import type { LevelChecksum, ViewRecord } from '@bdv-cluster/bdv';
import type { DatasetSpec, ViewSpec } from '@bdv-cluster/contract';

export type DatasetStatus = 'open' | 'writing' | 'finalizing' | 'complete' | 'failed';
export type ViewState = 'queued' | 'running' | 'done' | 'failed';
export const VIEW_STATES: ViewState[] = ['queued', 'running', 'done', 'failed'];

export interface FinalizeOptions {
  timepoints?: number;
  microscope?: { name?: string; version?: string; user?: string };
  camera?: string;
}

export interface DatasetFiles {
  h5: string;
  xml: string;
  h5Uri?: string;
  xmlUri?: string;
}

export interface DatasetRecord {
  id: string;
  name: string;
  status: DatasetStatus;
  spec: DatasetSpec;
  views: Record<ViewState, number>;
  files: DatasetFiles;
  errors: string[];
  /** Views waiting for an outage to end (source store unreachable, output volume full): viewKey -> why. */
  waiting: Record<string, string>;
  finalizeRequested: boolean;
  finalizeOptions?: FinalizeOptions;
  generation: number;
  batchId?: string;
  createdAt: string;
  updatedAt: string;
}

/** What is stored when a view is submitted (never changed afterwards). */
export interface ViewSubmission {
  spec: ViewSpec;
  setupId: number;
  jobId: string;
  submittedAt: string;
}

/** What a writer stores once the view's data is durably in the file: all the XML needs. */
export interface ViewResult {
  record: ViewRecord;
  /** What each level must read back as (checked by the finalizer and `bdv verify`). */
  checksums: LevelChecksum[];
  /** Partition file (relative to the master), in the partitioned layout. */
  partition?: string;
  bytes: number;
  seconds: number;
}

export interface ViewEntry extends ViewSubmission {
  viewKey: string;
  state: ViewState;
  error?: string;
  result?: ViewResult;
}
