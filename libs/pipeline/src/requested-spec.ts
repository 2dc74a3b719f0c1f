import { AUTO, type DatasetSpec } from '@bdv-cluster/contract';
import type { DatasetRecord } from './state-model.js';

/**
 * A dataset spec as its request asked for it, to compare two requests (a batch re-run against the
 * dataset an earlier run made): pyramid fields that were "auto" read "auto" again (whatever was
 * chosen from the first view), and `notify` counts by its URL only (the secret is never stored).
 */
export function asRequested(
  record: Pick<DatasetRecord, 'spec'> & Partial<Pick<DatasetRecord, 'pyramid'>>,
): DatasetSpec {
  const spec: DatasetSpec = { ...record.spec };
  for (const field of record.pyramid?.auto ?? []) spec[field] = AUTO;
  if (spec.notify) spec.notify = { url: spec.notify.url };
  return spec;
}
