import { readOptionsOf } from '@bdv-cluster/contract';
import { readSourceShape, type ViewTask } from '@bdv-cluster/convert';
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
    ...sourceOf(config, view),
    view: view.spec,
    h5Path: dataset.files.h5,
    layout: dataset.spec.layout,
    format: datasetFormat(dataset),
    owner: dataset.id,
  };
}

/** Where a view's bytes are and how they are laid out, checked as viewTaskOf checks them. */
function sourceOf(config: ClusterConfig, view: ViewEntry): Pick<ViewTask, 'source' | 'read' | 's3'> {
  return {
    source: parseSourceUri(view.spec.source.uri, config.FILE_SOURCE_ROOTS, sourceBucketsOf(config)),
    read: readOptionsOf(view.spec.source),
    s3: s3SettingsOf(config),
  };
}

/** The view's stack shape from its header (to choose an "auto" pyramid before writing). */
export function viewShapeOf(config: ClusterConfig, view: ViewEntry): Promise<[number, number, number]> {
  return readSourceShape(sourceOf(config, view));
}
