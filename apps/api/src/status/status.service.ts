import { ClusterQueues, DatasetStore, type DatasetRecord } from '@bdv-cluster/pipeline';
import { Injectable } from '@nestjs/common';
import { asHttp } from '../common/domain-errors.js';
import { progressOf } from './progress.js';
import type { DatasetStatusView, StatusModel } from './status-page.js';

/** What the status page shows, gathered from Redis (dataset and view state) and the queues. */
@Injectable()
export class StatusService {
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
        datasets: await Promise.all(records.map((d) => this.datasetView(d, now))),
      };
    });
  }

  /**
   * One dataset as the page shows it. Only fields meant for people are taken: never the spec as a
   * whole (it may carry secrets, e.g. a notification's), never a token.
   */
  private async datasetView(d: DatasetRecord, now: number): Promise<DatasetStatusView> {
    const views = await this.store.listViews(d.id);
    const failedKeys = new Set(views.filter((v) => v.state === 'failed').map((v) => v.viewKey));
    return {
      id: d.id,
      name: d.name,
      status: d.status,
      layout: d.spec.layout ?? 'single',
      progress: progressOf(d, views, now),
      failedViews: views
        .filter((v) => v.state === 'failed')
        .map((v) => ({ viewKey: v.viewKey, reason: v.error ?? 'failed' })),
      waitingViews: Object.entries(d.waiting ?? {}).map(([viewKey, reason]) => ({ viewKey, reason })),
      // Failed views' reasons are listed with them; the rest are the dataset's own (the finalize's).
      errors: d.errors.filter((e) => ![...failedKeys].some((k) => e.startsWith(`${k}: `))),
      files: {
        h5: d.files.h5,
        xml: d.files.xml,
        ...(d.files.h5Uri ? { h5Uri: d.files.h5Uri } : {}),
        ...(d.files.xmlUri ? { xmlUri: d.files.xmlUri } : {}),
      },
      hasPreview: d.views.done > 0,
      createdAt: d.createdAt,
    };
  }
}
