import type { DatasetRecord, ViewKeyOrder, ViewState } from '@bdv-cluster/pipeline';
import { datasetStamp } from '../common/dataset-stamp.js';
import { LruMap } from '../common/lru-map.js';

/** Views whose order is kept at most, over all datasets (8 B each: 32 MB). */
export const VIEW_ORDERS_KEPT = 4_000_000;

/**
 * The view order of datasets being paged through, kept while the dataset's views are unchanged
 * (datasetStamp), so that following a listing's Link headers reads a dataset's keys once rather
 * than once a page: each page otherwise reads and sorts every key (200,000 views: ~0.25 s a page,
 * a walk of 200 pages ~50 s). Weighed by views; least recently paged datasets go first.
 */
export class ViewOrderCache {
  private readonly entries: LruMap<{ stamp: string; order: ViewKeyOrder }>;

  constructor(budgetViews = VIEW_ORDERS_KEPT) {
    this.entries = new LruMap(budgetViews, (e) => Math.max(1, e.order.length));
  }

  get(dataset: DatasetRecord, state: ViewState | undefined): ViewKeyOrder | undefined {
    const entry = this.entries.get(keyOf(dataset, state));
    return entry?.stamp === datasetStamp(dataset) ? entry.order : undefined;
  }

  /** Keeps `order`, read after `dataset` was: a change in between makes the next get miss. */
  set(dataset: DatasetRecord, state: ViewState | undefined, order: ViewKeyOrder): void {
    this.entries.set(keyOf(dataset, state), { stamp: datasetStamp(dataset), order });
  }
}

const keyOf = (d: DatasetRecord, state: ViewState | undefined) => `${d.id}|${state ?? ''}`;
