import type { S3Client } from '@aws-sdk/client-s3';
import {
  BatchSpec,
  compileFilenamePattern,
  DatasetSpec,
  describeProblems,
  fieldProblems,
  inferLayout,
  ViewSpec,
  viewKeyOf,
  viewRangeProblems,
} from '@bdv-cluster/contract';
import {
  ClusterQueues,
  DatasetStore,
  datasetFiles,
  type ClusterConfig,
  type DatasetRecord,
} from '@bdv-cluster/pipeline';
import { StorageError } from '@bdv-cluster/storage';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/api-error.js';
import { CONFIG, S3 } from '../common/tokens.js';
import { parseBody } from '../common/zod-body.js';
import { listBatchSource } from './batch-listing.js';

export interface BatchRecord {
  batchId: string;
  datasetId: string;
  source: string;
  pattern: string;
  views: number;
  queued: number;
  skipped: number;
  unmatched: number;
  createdAt: string;
}

/**
 * Batch reprocessing of an archive: list, match, infer the layout, register (or reuse) the
 * dataset, queue every view not yet written, and finalize automatically when all are settled.
 */
@Injectable()
export class BatchesService {
  constructor(
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(S3) private readonly s3: S3Client,
    private readonly store: DatasetStore,
    private readonly queues: ClusterQueues,
  ) {}

  async create(body: unknown) {
    const batch = parseBody(BatchSpec, body);
    const pattern = compileFilenamePattern(batch.pattern);
    let listed;
    try {
      listed = await listBatchSource(this.s3, batch.source, this.config.FILE_SOURCE_ROOTS);
    } catch (error) {
      if (error instanceof StorageError) throw ApiError.badRequest(`source: ${error.message}`);
      throw error;
    }
    const matches = listed.flatMap((o) => {
      const indices = pattern.match(o.name);
      return indices ? [{ ...o, indices }] : [];
    });
    if (matches.length === 0)
      throw ApiError.badRequest(
        `pattern: no object under ${batch.source} matches '${batch.pattern}' (${listed.length} listed)`,
      );
    const inferred = inferLayout(matches.map((m) => m.indices));
    const given = batch.dataset as { setup?: Record<string, number>; timepoints?: number };
    const parsed = DatasetSpec.safeParse({
      ...batch.dataset,
      setup: { ...inferred.setup, ...given.setup },
      timepoints: given.timepoints ?? inferred.timepoints,
    });
    if (!parsed.success) {
      const details = fieldProblems(parsed.error).map((p) => ({ ...p, field: `dataset.${p.field}` }));
      throw ApiError.badRequest(describeProblems(details), details);
    }
    const spec = parsed.data;
    const views = matches.map((m) => {
      const view = ViewSpec.safeParse({
        ...batch.viewDefaults,
        ...m.indices,
        source: { uri: m.uri, ...batch.sourceOptions },
      });
      if (!view.success)
        throw ApiError.badRequest(`viewDefaults: ${describeProblems(fieldProblems(view.error))}`);
      return view.data;
    });
    const keys = new Map(views.map((v) => [viewKeyOf(v), v]));
    if (keys.size !== views.length)
      throw ApiError.badRequest(
        'pattern: two objects map to the same view; add the distinguishing field to the pattern',
      );
    const outOfRange = views.flatMap((v) =>
      viewRangeProblems(spec, v).map((p) => `${v.source.uri}: ${p.field} ${p.message}`),
    );
    if (outOfRange.length > 0) throw ApiError.badRequest(outOfRange.slice(0, 20).join('; '));
    if (batch.dryRun) {
      return {
        dryRun: true,
        setup: spec.setup,
        timepoints: spec.timepoints,
        unmatched: listed.length - matches.length,
        views: [...keys].map(([viewKey, v]) => ({ viewKey, uri: v.source.uri })),
      };
    }

    const batchId = randomUUID();
    const dataset = await this.datasetFor(spec, batchId);
    const existing = new Map((await this.store.listViews(dataset.id)).map((v) => [v.viewKey, v.state]));
    const toQueue: string[] = [];
    for (const [viewKey, view] of keys) {
      const state = existing.get(viewKey);
      if (state && state !== 'failed') continue; // re-run: already written (or on its way)
      const outcome = await this.store.addView(dataset, view, true);
      if (outcome.ok) toQueue.push(viewKey);
    }
    await this.queues.enqueueWriteBulk(dataset.id, toQueue);
    const generation = await this.store.requestFinalize(dataset.id, {});
    if (generation !== undefined) await this.queues.enqueueFinalize(dataset.id, generation);
    const record: BatchRecord = {
      batchId,
      datasetId: dataset.id,
      source: batch.source,
      pattern: batch.pattern,
      views: keys.size,
      queued: toQueue.length,
      skipped: keys.size - toQueue.length,
      unmatched: listed.length - matches.length,
      createdAt: new Date().toISOString(),
    };
    await this.store.saveBatch(batchId, record);
    return record;
  }

  async get(batchId: string) {
    const batch = await this.store.getBatch<BatchRecord>(batchId);
    if (!batch) throw ApiError.notFound(`batch ${batchId} does not exist`);
    const dataset = await this.store.getDataset(batch.datasetId);
    return {
      ...batch,
      dataset: dataset && {
        id: dataset.id,
        name: dataset.name,
        status: dataset.status,
        views: dataset.views,
        files: dataset.files,
        errors: dataset.errors,
      },
    };
  }

  /** A new dataset, or — re-running a batch — the one an earlier batch registered under this name. */
  private async datasetFor(spec: DatasetSpec, batchId: string): Promise<DatasetRecord> {
    const created = await this.store.createDataset(
      spec,
      datasetFiles(this.config.OUTPUT_DIR, spec.name),
      batchId,
    );
    if (created) return created;
    const id = await this.store.idByName(spec.name);
    const existing = id ? await this.store.getDataset(id) : undefined;
    if (!existing?.batchId)
      throw ApiError.conflict(`dataset.name: ${spec.name} is taken by a dataset not made by a batch`);
    if (existing.status === 'finalizing')
      throw ApiError.conflict(`dataset ${existing.id} is finalizing; re-run the batch when it is complete`);
    return existing;
  }
}
