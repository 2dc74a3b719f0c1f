import {
  appendViewToFile,
  describeView,
  partitionPathFor,
  preferredSlabDepth,
  writePartition,
  type BdvFormat,
  type Layout,
  type ViewDescription,
  type ViewProgress,
  type ViewRecord,
} from '@bdv-cluster/bdv';
import { asSlabStack, openStackSource, type OpenStackOptions } from '@bdv-cluster/stacks';
import type { S3Settings, SourceLocation } from '@bdv-cluster/storage';
import { basename } from 'node:path';
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
}

/** What the dataset's XML needs of a written view, and what it cost. */
export interface ViewTaskResult {
  record: ViewRecord;
  /** The partition file's name (beside the master), in the partitioned layout. */
  partition?: string;
  bytes: number;
  seconds: number;
}

export type TaskProgress = Pick<ViewProgress, 'bytesDone' | 'bytesTotal'>;

/**
 * Streams one source into its dataset file: appended to the single .h5 or written as its own
 * partition; closed and fsynced when this returns. The same steps for `bdv convert --jobs` and
 * the cluster's writers (usually inside a worker thread, see view-thread-pool.ts).
 */
export async function runViewTask(
  task: ViewTask,
  onProgress?: (p: TaskProgress) => void,
): Promise<ViewTaskResult> {
  const started = performance.now();
  const reader = await openStackSource(await openTaskSource(task.source, task.s3), task.read);
  try {
    const record = describeView(task.format.setup, task.view, reader.shapeZyx);
    const stack = asSlabStack(reader, preferredSlabDepth(reader.shapeZyx, task.format));
    const progress =
      onProgress && ((p: ViewProgress) => onProgress({ bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }));
    let partition: string | undefined;
    if (task.layout === 'partitioned') {
      const path = partitionPathFor(task.h5Path, record.time, record.setupId);
      await writePartition(path, task.format, record, stack, progress);
      partition = basename(path);
    } else {
      await appendViewToFile(task.h5Path, task.format, record, stack, progress);
    }
    return { record, partition, bytes: reader.dataBytes, seconds: (performance.now() - started) / 1000 };
  } finally {
    await reader.close();
  }
}
