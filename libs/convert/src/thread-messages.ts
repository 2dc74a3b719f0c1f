import type { FailureKind } from './task-errors.js';
import type { TaskProgress, ViewTask, ViewTaskResult } from './view-task.js';

/** What the pool posts to a thread: the task, and the flag that cancels it (see cancellation.ts). */
export interface ThreadRequest {
  task: ViewTask;
  cancel?: SharedArrayBuffer;
}

/** What a view thread posts back while it works on a task. */
export type ThreadReply =
  | { type: 'progress'; progress: TaskProgress }
  | { type: 'done'; result: ViewTaskResult }
  | { type: 'error'; message: string; kind: FailureKind };
