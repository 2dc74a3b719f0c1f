export * from './queues.js';
export * from './config.js';
export * from './state-model.js';
export { RedisKeys } from './redis-keys.js';
export { DatasetStore, type AddViewOutcome } from './dataset-store.js';
export { DatasetLock } from './dataset-lock.js';
export { datasetFiles } from './output-paths.js';
export { spimDataFromState } from './spimdata-from-state.js';
export { ClusterQueues } from './queue-client.js';
