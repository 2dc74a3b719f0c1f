export * from './queues.js';
export * from './config.js';
export * from './state-model.js';
export type { ViewStatePort, JobQueuePort } from './ports.js';
export { PipelineError, type PipelineErrorKind } from './pipeline-error.js';
export { RedisKeys } from './redis-keys.js';
export { DatasetStore, type ViewPage } from './dataset-store.js';
export { ViewKeyOrder } from './view-order.js';
export { DatasetLock } from './dataset-lock.js';
export { datasetFiles, exportKeyOf, exportPrefixOf } from './output-paths.js';
export { datasetFormat } from './dataset-format.js';
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
export { CancelDataset, type CancelResult, type CancelTiming } from './usecases/cancel-dataset.js';
export { RetryView } from './usecases/retry-view.js';
export { ChoosePyramid } from './usecases/choose-pyramid.js';
export { AnnounceOutcome } from './usecases/announce-outcome.js';
export { removeDatasetOutputs } from './dataset-removal.js';
export { datasetStatusJson, type DatasetStatusJson } from './dataset-status.js';
export {
  notifyTargetProblem,
  allowedNetworks,
  parseAllowEntry,
  allowEntryProblem,
  type AllowEntry,
} from './notify/notify-targets.js';
export {
  notificationSignature,
  verifyNotification,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './notify/notify-signature.js';
export { asRequested } from './requested-spec.js';
