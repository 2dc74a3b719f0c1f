import {
  appendViewToFile,
  describeView,
  partitionPathFor,
  preferredSlabDepth,
  stagePartition,
  commitPartition,
  type BdvFormat,
  type LevelChecksum,
  type Layout,
  type ViewDescription,
  type ViewProgress,
  type ViewRecord,
} from '@bdv-cluster/bdv';
import { asSlabStack, openStackSource, type OpenStackOptions } from '@bdv-cluster/stacks';
import type { S3Settings, SourceLocation } from '@bdv-cluster/storage';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cancellable, throwIfCancelled, type CancelCheck } from './cancellation.js';
import { openTaskSource } from './task-source.js';

/**
 * One view to convert, as plain data (it crosses into a worker thread): where its bytes are,
 * how they are laid out, what the view is, and which dataset file it goes to.
 */
export interface ViewTask {
  /** Already checked against the caller's rules (allowed folders, buckets). */
  source: SourceLocation;
  read: OpenStackOptions;
  view: ViewDescription;
  /** The dataset's .h5: the file itself (single) or the master its partitions sit beside. */
  h5Path: string;
  layout: Layout;
  format: BdvFormat;
  /** Object storage settings, for s3 sources. */
  s3?: S3Settings;
  /** The dataset that owns the single .h5: recorded when it is created, checked on every append. */
  owner?: string;
}

/** What the dataset's XML needs of a written view, and what it cost. */
export interface ViewTaskResult {
  record: ViewRecord;
  /** What each level must read back as. */
  checksums: LevelChecksum[];
  /**
   * Partitioned layout: the partition file's name (beside the master) and the temporary file it
   * was written to. Nothing is at the partition's name until the caller commits it
   * (`commitViewTask`): a cluster writer first checks it still owns the job.
   */
  partition?: { file: string; staged: string };
  bytes: number;
  seconds: number;
}

export type TaskProgress = Pick<ViewProgress, 'bytesDone' | 'bytesTotal'>;

/**
 * Streams one source into its dataset file: appended to the single .h5 or written as its own
 * partition; closed and fsynced when this returns. The same steps for `bdv convert --jobs` and
 * the cluster's writers (usually inside a worker thread, see view-thread-pool.ts). `cancel` is
 * checked before anything is written and between slabs: a cancelled task leaves nothing behind
 * and throws a `cancelled` ViewTaskError.
 */
export async function runViewTask(
  task: ViewTask,
  onProgress?: (p: TaskProgress) => void,
  cancel?: CancelCheck,
): Promise<ViewTaskResult> {
  const started = performance.now();
  throwIfCancelled(cancel);
  const reader = await openStackSource(await openTaskSource(task.source, task.s3), task.read);
  try {
    const record = describeView(task.format.setup, task.view, reader.shapeZyx);
    throwIfCancelled(cancel);
    const stack = cancellable(asSlabStack(reader, preferredSlabDepth(reader.shapeZyx, task.format)), cancel);
    const progress =
      onProgress && ((p: ViewProgress) => onProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }));
    const seconds = () => (performance.now() - started) / 1000;
    if (task.layout === 'partitioned') {
      const path = partitionPathFor(task.h5Path, record.time, record.setupId);
      const { staged, checksums } = await stagePartition(path, task.format, record, stack, progress);
      return {
        record,
        checksums,
        partition: { file: basename(path), staged },
        bytes: reader.dataBytes,
        seconds: seconds(),
      };
    }
    const checksums = await appendViewToFile(task.h5Path, task.format, record, stack, {
      onProgress: progress,
      owner: task.owner,
      cancel,
    }).catch((error: unknown) => {
      throwIfCancelled(cancel); // stopped while waiting for the file: cancelled, not busy
      throw error;
    });
    return { record, checksums, bytes: reader.dataBytes, seconds: seconds() };
  } finally {
    await reader.close();
  }
}

/**
 * Makes a finished task's output visible: a staged partition is renamed into place (a single
 * file's append committed already). Returns the partition's file name, if any.
 */
export function commitViewTask(task: Pick<ViewTask, 'h5Path'>, result: ViewTaskResult): string | undefined {
  if (!result.partition) return undefined;
  commitPartition(result.partition.staged, join(dirname(task.h5Path), result.partition.file));
  return result.partition.file;
}

/** Removes a finished task's staged output that will not be used (it was superseded). */
export function discardViewTask(result: ViewTaskResult): void {
  if (result.partition) rmSync(result.partition.staged, { force: true });
}

/**
 * The shape (z,y,x) of a task's source, from its header alone: what a cluster writer needs to
 * choose an "auto" pyramid before the first view of its dataset is written.
 */
export async function readSourceShape(
  task: Pick<ViewTask, 'source' | 'read' | 's3'>,
): Promise<[number, number, number]> {
  const reader = await openStackSource(await openTaskSource(task.source, task.s3), task.read);
  try {
    return [...reader.shapeZyx];
  } finally {
    await reader.close();
  }
}
