export * from './queues.js';
export * from './config.js';
export * from './state-model.js';
export type { ViewStatePort, JobQueuePort } from './ports.js';
export { PipelineError, type PipelineErrorKind } from './pipeline-error.js';
export { RedisKeys } from './redis-keys.js';
export { DatasetStore, type AddViewOutcome } from './dataset-store.js';
export { DatasetLock } from './dataset-lock.js';
export { datasetFiles } from './output-paths.js';
export { spimDataFromState } from './spimdata-from-state.js';
export { ClusterQueues } from './queue-client.js';
export {
  SubmitViews,
  type SubmitOutcome,
  type SubmittedView,
  type RefusedView,
} from './usecases/submit-views.js';
export { SettleView } from './usecases/settle-view.js';
export { RequestFinalize } from './usecases/request-finalize.js';
export { RegisterDataset } from './usecases/register-dataset.js';
