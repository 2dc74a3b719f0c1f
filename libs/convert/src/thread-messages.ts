import type { FileCheck, ViewVerdict } from '@bdv-cluster/bdv';
import type { FailureKind } from './task-errors.js';
import type { TaskProgress, ViewTask, ViewTaskResult } from './view-task.js';

/**
 * What the pool posts to a thread: a view to write, with the flag that cancels it (see
 * cancellation.ts), or a written file to read back and check against its checksums.
 */
export type ThreadRequest = { task: ViewTask; cancel?: SharedArrayBuffer } | { check: FileCheck };

/** What a thread posts back while it works on a request. */
export type ThreadReply =
  | { type: 'progress'; progress: TaskProgress }
  | { type: 'done'; result: ViewTaskResult | ViewVerdict[] }
  | { type: 'error'; message: string; kind: FailureKind };
