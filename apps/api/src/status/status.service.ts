import { parseViewKey } from '@bdv-cluster/contract';
import { sheetProblem } from '@bdv-cluster/bdv/preview';
import { ClusterQueues, DatasetStore, type DatasetRecord, type ViewEntry } from '@bdv-cluster/pipeline';
import { Injectable } from '@nestjs/common';
import { asHttp } from '../common/domain-errors.js';
import { mergeSummaries, progressOf, summarizeViews } from './progress.js';
import { LIST_CAP, type DatasetStatusView, type StatusModel } from './status-page.js';
import { ViewsDigestCache, type ViewsDigest } from './views-digest-cache.js';

/** Datasets whose view digests are kept: twice the most one page shows. */
const DIGESTS_KEPT = 200;

/** What the status page shows, gathered from Redis (dataset and view state) and the queues. */
@Injectable()
export class StatusService {
  private readonly digests = new ViewsDigestCache(DIGESTS_KEPT);

  constructor(
    private readonly store: DatasetStore,
    private readonly queues: ClusterQueues,
  ) {}

  async model(limit: number, refreshSeconds: number): Promise<StatusModel> {
    return asHttp(async () => {
      const [records, datasetCount, counts] = await Promise.all([
        this.store.listDatasets(0, limit),
        this.store.redis.zcard(this.store.keys.index()),
        this.queues.write.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'failed'),
      ]);
      const now = Date.now();
      return {
        generatedAt: new Date(now),
        refreshSeconds,
        datasetCount,
        queue: {
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          delayed: counts.delayed ?? 0,
          active: counts.active ?? 0,
          failed: counts.failed ?? 0,
        },
        datasets: await this.datasetViews(records, now),
      };
    });
  }

  /**
   * One dataset as the page shows it. Only fields meant for people are taken: never the spec as a
   * whole (it may carry secrets, e.g. a notification's), never a token.
   */
  private async datasetView(d: DatasetRecord, now: number): Promise<DatasetStatusView> {
    const { summary, failedViews, sheetFits } = await this.digestOf(d);
    return {
      id: d.id,
      name: d.name,
      status: d.status,
      layout: d.spec.layout ?? 'single',
      progress: progressOf(d, summary, now),
      failedViews,
      waitingViews: Object.entries(d.waiting ?? {}).map(([viewKey, reason]) => ({ viewKey, reason })),
      // Views' reasons ("<viewKey>: …") are listed with the failed views; the rest are the
      // dataset's own (the finalize's).
      errors: d.errors.filter((e) => !parseViewKey(e.slice(0, Math.max(0, e.indexOf(': '))))),
      files: {
        h5: d.files.h5,
        xml: d.files.xml,
        ...(d.files.h5Uri ? { h5Uri: d.files.h5Uri } : {}),
        ...(d.files.xmlUri ? { xmlUri: d.files.xmlUri } : {}),
      },
      hasPreview: d.views.done > 0 && sheetFits,
      ...(sheetFits ? {} : { sheetTooLarge: true as const }),
      createdAt: d.createdAt,
    };
  }

  /**
   * One dataset after the other: the views of datasets not cached are read one dataset at a time,
   * so that a page of large datasets never asks Redis for all of their views at once.
   */
  private async datasetViews(records: readonly DatasetRecord[], now: number): Promise<DatasetStatusView[]> {
    const shown: DatasetStatusView[] = [];
    for (const d of records) shown.push(await this.datasetView(d, now));
    return shown;
  }

  /**
   * Read batch by batch in (time, setup) order (DatasetStore.viewsInOrder): one batch is held
   * however many views the dataset has, and the first timepoint's views — the contact sheet's —
   * come first.
   */
  private async digestOf(d: DatasetRecord): Promise<ViewsDigest> {
    const cached = this.digests.get(d);
    if (cached) return cached;
    let summary = summarizeViews([]);
    const failedViews: ViewsDigest['failedViews'] = [];
    let firstTime: number | undefined;
    const sheetSpecs: ViewEntry['spec'][] = [];
    for await (const batch of this.store.viewsInOrder(d.id)) {
      summary = mergeSummaries(summary, summarizeViews(batch));
      for (const v of batch) {
        if (v.state === 'failed' && failedViews.length < LIST_CAP)
          failedViews.push({ viewKey: v.viewKey, reason: v.error ?? 'failed' });
        firstTime ??= v.spec.time;
        if (v.spec.time === firstTime) sheetSpecs.push(v.spec);
      }
    }
    // Whether the contact sheet the page embeds (the first timepoint's) has cells large enough.
    const digest: ViewsDigest = { summary, failedViews, sheetFits: sheetProblem(sheetSpecs) === undefined };
    this.digests.set(d, digest);
    return digest;
  }
}
