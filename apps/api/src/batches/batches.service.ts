import type { S3Client } from '@aws-sdk/client-s3';
import {
  BatchSpec,
  describeProblems,
  viewKeyOf,
  type DatasetSpec,
  type ViewSpec,
} from '@bdv-cluster/contract';
import {
  asRequested,
  DatasetStore,
  PipelineError,
  RegisterDataset,
  RequestFinalize,
  SubmitViews,
  sourceBucketsOf,
  type ClusterConfig,
  type DatasetRecord,
} from '@bdv-cluster/pipeline';
import { parseSourceFolder } from '@bdv-cluster/storage';
import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../common/api-error.js';
import { asHttp } from '../common/domain-errors.js';
import { fieldDifferences } from '../common/spec-diff.js';
import { CONFIG, S3 } from '../common/tokens.js';
import { parseBody } from '../common/zod-body.js';
import { listBatchSource } from './batch-listing.js';
import { describePlan, planBatch } from './batch-plan.js';
import { assertBatchSources } from './batch-sources.js';

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
 * Batch reprocessing of an archive: list, match, plan, register (or reuse) the dataset, queue
 * every view not yet written, and let the dataset finalize by itself once all have settled.
 */
@Injectable()
export class BatchesService {
  constructor(
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(S3) private readonly s3: S3Client,
    private readonly store: DatasetStore,
    private readonly register: RegisterDataset,
    private readonly submitViews: SubmitViews,
    private readonly requestFinalize: RequestFinalize,
  ) {}

  async create(body: unknown) {
    const batch = parseBody(BatchSpec, body);
    const listed = await asHttp(async () => {
      const folder = parseSourceFolder(
        batch.source,
        this.config.FILE_SOURCE_ROOTS,
        sourceBucketsOf(this.config),
      );
      return listBatchSource(this.s3, folder);
    }, 'source');
    const plan = planBatch(batch, listed);
    await assertBatchSources(this.s3, this.config, plan.manifest.dataset, plan.manifest.views);
    if (batch.dryRun) return describePlan(plan);

    const batchId = randomUUID();
    const dataset = await this.datasetFor(plan.manifest.dataset, batchId);
    const toQueue = await this.notYetWritten(dataset.id, plan.manifest.views);
    const { queued } = await this.submitViews.execute(dataset, toQueue, true);
    await this.requestFinalize.execute(dataset.id);
    const record: BatchRecord = {
      batchId,
      datasetId: dataset.id,
      source: batch.source,
      pattern: batch.pattern,
      views: plan.manifest.views.length,
      queued: queued.length,
      skipped: plan.manifest.views.length - queued.length,
      unmatched: plan.unmatched,
      createdAt: new Date().toISOString(),
    };
    await this.store.saveBatch(batchId, record);
    return record;
  }

  async get(batchId: string) {
    const batch = await this.store.getBatch<BatchRecord>(batchId);
    if (!batch) throw ApiError.notFound(`batch ${batchId} does not exist`, 'id');
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

  /**
   * A new dataset, or — re-running a batch — the one an earlier batch registered under this name,
   * only if this batch describes the very same dataset (setup, timepoints, compression, levels,
   * blocks, layout, labels...): a view added to a file written otherwise would not fit it.
   */
  private async datasetFor(spec: DatasetSpec, batchId: string): Promise<DatasetRecord> {
    const existing = (await this.register.existing(spec.name)) ?? (await this.registerOrFind(spec, batchId));
    if (existing.batchId === batchId) return existing;
    if (!existing.batchId)
      throw ApiError.conflict(
        `dataset.name: ${spec.name} is taken by a dataset not made by a batch`,
        'dataset.name',
      );
    const differences = fieldDifferences(
      { ...asRequested(existing) },
      { ...asRequested({ spec }) },
      'dataset.',
    );
    if (differences.length > 0)
      throw ApiError.conflict(
        `this batch does not fit dataset ${existing.name} (${existing.id}) an earlier batch made: ${describeProblems(differences)}; keep the earlier settings or choose a new dataset.name`,
        differences,
      );
    if (existing.status === 'finalizing')
      throw ApiError.conflict(
        `dataset ${existing.id} is finalizing; re-run the batch when it is complete`,
        'dataset.name',
      );
    return existing;
  }

  /** Registers the dataset; a concurrent run of the same batch that got there first is reused. */
  private async registerOrFind(spec: DatasetSpec, batchId: string): Promise<DatasetRecord> {
    try {
      return await this.register.execute(spec, batchId);
    } catch (error) {
      const winner = await this.register.existing(spec.name);
      if (winner) return winner;
      // named where a batch has them: under `dataset`
      if (error instanceof PipelineError && error.field)
        throw new PipelineError(error.kind, error.message, `dataset.${error.field}`);
      throw error;
    }
  }

  /**
   * A re-run skips views already written or on their way; failed ones are tried again. A view it
   * would skip must come from the object this batch maps to it: a changed pattern (tile and
   * channel swapped) or folder had answered "already written" and written nothing.
   */
  private async notYetWritten(datasetId: string, views: readonly ViewSpec[]): Promise<ViewSpec[]> {
    // The states, then the sources of the skipped views only, 1,000 at a time: a re-run of a large
    // acquisition need not hold every view's spec and result.
    const states = await this.store.viewStates(datasetId);
    const toQueue: ViewSpec[] = [];
    const skipped: ViewSpec[] = [];
    for (const v of views) {
      const state = states[viewKeyOf(v)];
      (!state || state === 'failed' ? toQueue : skipped).push(v);
    }
    const sources = await this.store.viewSources(datasetId, skipped.map(viewKeyOf));
    const moved = skipped.filter((v) => (sources.get(viewKeyOf(v)) ?? v.source.uri) !== v.source.uri);
    if (moved.length > 0)
      throw ApiError.conflict(
        `this batch maps other objects to views the dataset already has: ${moved
          .slice(0, 3)
          .map(
            (v) => `${viewKeyOf(v)} came from ${sources.get(viewKeyOf(v))}, this batch has ${v.source.uri}`,
          )
          .join(
            '; ',
          )}${moved.length > 3 ? `; and ${moved.length - 3} more` : ''}: re-run the batch with the earlier source and pattern, or choose a new dataset.name`,
        'pattern',
      );
    return toQueue;
  }
}
