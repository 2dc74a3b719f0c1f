import type { DatasetRecord } from '@bdv-cluster/pipeline';
import { datasetStamp } from '../common/dataset-stamp.js';
import { LruMap } from '../common/lru-map.js';
import type { ViewsSummary } from './progress.js';

/** What the status page reads from a dataset's views (everything but counters, which it has). */
export interface ViewsDigest {
  summary: ViewsSummary;
  /** The first failed views with their reasons (the page lists a few and counts the rest). */
  failedViews: { viewKey: string; reason: string }[];
  /** Whether the first timepoint's contact sheet can be drawn (else the page does not embed it). */
  sheetFits: boolean;
}

/**
 * Digests of datasets' views, kept while the dataset's state is unchanged. Reading a dataset's
 * views costs time in their number (7,200 views: ~80 ms and 6 MB from Redis), and the page
 * refreshes every few seconds: a complete dataset is read once, a changing one once per change.
 * datasetStamp says whether anything the digest depends on may have changed. Least recently
 * shown datasets are forgotten first.
 */
export class ViewsDigestCache {
  private readonly entries: LruMap<{ stamp: string; digest: ViewsDigest }>;

  constructor(capacity: number) {
    this.entries = new LruMap(capacity);
  }

  get(dataset: DatasetRecord): ViewsDigest | undefined {
    const entry = this.entries.get(dataset.id);
    return entry?.stamp === datasetStamp(dataset) ? entry.digest : undefined;
  }

  set(dataset: DatasetRecord, digest: ViewsDigest): void {
    this.entries.set(dataset.id, { stamp: datasetStamp(dataset), digest });
  }
}
