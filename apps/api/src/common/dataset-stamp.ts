import type { DatasetRecord } from '@bdv-cluster/pipeline';

/**
 * What moves whenever a dataset's views may have changed: every view transition moves a counter,
 * and the update time and finalize generation cover the rest. Caches of what was read from a
 * dataset's views keep it beside the value and use the value only while it is the same.
 */
export function datasetStamp(d: DatasetRecord): string {
  const { queued, running, done, failed, cancelled } = d.views;
  return [d.status, d.updatedAt, d.generation, queued, running, done, failed, cancelled].join('|');
}
