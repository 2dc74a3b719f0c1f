import type { FailureKind } from './task-errors.js';
import type { TaskProgress, ViewTaskResult } from './view-task.js';

/** What a view thread posts back while it works on a task. */
export type ThreadReply =
  | { type: 'progress'; progress: TaskProgress }
  | { type: 'done'; result: ViewTaskResult }
  | { type: 'error'; message: string; kind: FailureKind };
