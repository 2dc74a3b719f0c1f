export {
  runViewTask,
  readSourceShape,
  commitViewTask,
  discardViewTask,
  type ViewTask,
  type ViewTaskResult,
  type TaskProgress,
} from './view-task.js';
export { ViewThreadPool } from './view-thread-pool.js';
export { sizeThreadHeaps, threadHeapsSized } from './thread-heap.js';
export { ViewTaskError, isPermanent, failureKindOf, type FailureKind } from './task-errors.js';
export { cancellable, cancelledError, stoppableStack, type CancelCheck } from './cancellation.js';
