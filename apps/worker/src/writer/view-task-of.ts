import { readOptionsOf } from '@bdv-cluster/contract';
import type { ViewTask } from '@bdv-cluster/convert';
import {
  datasetFormat,
  s3SettingsOf,
  sourceBucketsOf,
  type ClusterConfig,
  type DatasetRecord,
  type ViewEntry,
} from '@bdv-cluster/pipeline';
import { parseSourceUri } from '@bdv-cluster/storage';

/**
 * The conversion task of a queued view: its source checked against the allowed folders and
 * buckets again (the configuration may have changed since it was submitted), its dataset's format
 * and file.
 */
export function viewTaskOf(config: ClusterConfig, dataset: DatasetRecord, view: ViewEntry): ViewTask {
  return {
    source: parseSourceUri(view.spec.source.uri, config.FILE_SOURCE_ROOTS, sourceBucketsOf(config)),
    read: readOptionsOf(view.spec.source),
    view: view.spec,
    h5Path: dataset.files.h5,
    layout: dataset.spec.layout,
    format: datasetFormat(dataset),
    s3: s3SettingsOf(config),
    owner: dataset.id,
  };
}
