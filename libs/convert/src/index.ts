export { runViewTask, type ViewTask, type ViewTaskResult, type TaskProgress } from './view-task.js';
export { ViewThreadPool } from './view-thread-pool.js';
export { ViewTaskError, isPermanent } from './task-errors.js';
