import type { DatasetRecord } from './state-model.js';

/**
 * A dataset as the v1 API shows it (`GET /v1/datasets/:id`) and as a notification carries it:
 * one shape in both places. Never holds the notification secret (the record has none).
 */
export function datasetStatusJson(d: DatasetRecord) {
  return {
    id: d.id,
    name: d.name,
    status: d.status,
    views: d.views,
    files: d.files,
    errors: d.errors,
    /** Views waiting for an outage to end (source store unreachable, output volume full): key -> why. */
    waiting: d.waiting,
    finalizeRequested: d.finalizeRequested,
    spec: d.spec,
    /** How an "auto" pyramid was chosen (from which view); absent when the levels were given. */
    ...(d.pyramid ? { pyramid: d.pyramid } : {}),
    /** Where the outcome is announced; `signed` when a secret signs it (the secret is never shown). */
    ...(d.notify ? { notify: d.notify } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}
export type DatasetStatusJson = ReturnType<typeof datasetStatusJson>;
