export * from './dataset-spec.js';
export * from './view-spec.js';
export * from './manifest.js';
export * from './filename-pattern.js';
export * from './batch-spec.js';
export * from './source-query.js';
export * from './manifest-from-matches.js';
