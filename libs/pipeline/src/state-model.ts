import type { LevelChecksum, ViewRecord } from '@bdv-cluster/bdv';
import type { DatasetSpec, ViewSpec } from '@bdv-cluster/contract';

/**
 * `cancelling`: DELETE asked; queued views are cancelled, running ones stop at their next slab.
 * `cancelled`: every view stopped, the outputs are removed and the name is free again.
 */
export type DatasetStatus =
  'open' | 'writing' | 'finalizing' | 'complete' | 'failed' | 'cancelling' | 'cancelled';
export type ViewState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const VIEW_STATES: ViewState[] = ['queued', 'running', 'done', 'failed', 'cancelled'];
/** Views per state; `cancelled` appears once a view was cancelled. */
export type ViewCounts = Record<Exclude<ViewState, 'cancelled'>, number> & { cancelled?: number };

/**
 * A finalize waiting out an outage (object store, output volume) is listed among the dataset's
 * `waiting` under this key, beside the views' own entries; it goes once the finalize settles.
 */
export const FINALIZE_WAITING_KEY = 'finalize';

/**
 * Where a finalize generation stands, re-read before each step that cannot be taken back:
 * `current` (go on), `superseded` (another generation, or the finalize already settled),
 * `cancelled` (DELETE), `gone` (the dataset is no longer in Redis: Redis lost its data).
 */
export type FinalizeStanding = 'current' | 'superseded' | 'cancelled' | 'gone';

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

/** Where a dataset's outcome is announced (its secret is stored apart and never read back). */
export interface NotifyTarget {
  url: string;
  /** True when a secret signs every POST. */
  signed: boolean;
  /** The last delivery's outcome, e.g. `delivered: 200 at …` or `failed: …, retrying`. */
  lastDelivery?: string;
}

/** How an "auto" pyramid was (or will be) chosen: from which view, with which shape and voxel size. */
export interface PyramidChoice {
  auto: ('subsamplingZyx' | 'blockSizeZyx')[];
  /** Unset until the first view's writer chose. */
  fromView?: string;
  shapeZyx?: number[];
  voxelSizeXyz?: number[];
  chosenAt?: string;
}

export interface DatasetRecord {
  id: string;
  name: string;
  status: DatasetStatus;
  spec: DatasetSpec;
  views: ViewCounts;
  files: DatasetFiles;
  errors: string[];
  /** Views waiting for an outage to end (source store unreachable, output volume full): viewKey -> why. */
  waiting: Record<string, string>;
  finalizeRequested: boolean;
  finalizeOptions?: FinalizeOptions;
  generation: number;
  batchId?: string;
  notify?: NotifyTarget;
  /** Set when the request said "auto" for the levels or the blocks. */
  pyramid?: PyramidChoice;
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

/** What adding a view to a dataset found (DatasetStore.addView). */
export type AddViewOutcome = { viewKey: string; jobId: string } &
  /** `reopened`: the view had failed before (its old job may still be on the queue). */
  (
    | { ok: true; reopened: boolean }
    | { ok: false; reason: 'NO_DATASET' | 'FINALIZED' | 'DUPLICATE' | 'CANCELLED'; state: string }
  );

/** What DELETE found: the dataset's status before, its finalize generation, the views it cancelled. */
export type CancelOutcome =
  | { ok: true; before: DatasetStatus; generation: number; cancelledQueued: string[] }
  | { ok: false; reason: 'NO_DATASET' | 'COMPLETE' | 'CANCELLED' };

/** Why a finalize was not taken (besides a dataset that does not exist). */
export type FinalizeRefusal = 'CANCELLED' | 'NO_VIEWS' | 'CHANGED';

/**
 * The highest time of the views still to be written or written, and the dataset's count of views
 * added or retried when it was read (a finalize checked against it passes that count on).
 */
export interface LiveViewTimes {
  latest: number | undefined;
  admitted: number;
}

export type RetryOutcome =
  | { ok: true; before: DatasetStatus }
  | {
      ok: false;
      /** PAST_TIMEPOINTS: `state` holds the timepoints the dataset was finalized with. */
      reason: 'NO_DATASET' | 'CANCELLED' | 'FINALIZING' | 'NO_VIEW' | 'NOT_FAILED' | 'PAST_TIMEPOINTS';
      state: string;
    };
