import {
  DatasetSpec,
  FinalizeSpec,
  parseViewKey,
  ViewSpec,
  viewRangeProblems,
  type FieldProblem,
} from '@bdv-cluster/contract';
import {
  ClusterQueues,
  datasetFiles,
  DatasetStore,
  type ClusterConfig,
  type DatasetRecord,
  type FinalizeOptions,
} from '@bdv-cluster/pipeline';
import { parseSourceUri, sourceSize, StorageError, uploadStream } from '@bdv-cluster/storage';
import type { S3Client } from '@aws-sdk/client-s3';
import { Inject, Injectable } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { ApiError } from '../common/api-error.js';
import { parseBody } from '../common/zod-body.js';
import { CONFIG, S3 } from '../common/tokens.js';

const UploadQuery = z.object({
  format: z.enum(['npy', 'raw', 'tiff']).default('npy'),
  shapeZyx: z
    .string()
    .regex(/^\d+,\d+,\d+$/, 'must be z,y,x')
    .transform((s) => s.split(',').map(Number) as [number, number, number])
    .optional(),
  dtype: z.enum(['uint16', 'uint8']).optional(),
  byteOrder: z.enum(['little', 'big']).optional(),
});

export interface ViewAccepted {
  viewKey: string;
  jobId: string;
  status: 'queued';
}

/** The dataset/view use cases of the v1 API, over Redis state, the queues and object storage. */
@Injectable()
export class DatasetsService {
  constructor(
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(S3) private readonly s3: S3Client,
    private readonly store: DatasetStore,
    private readonly queues: ClusterQueues,
  ) {}

  async create(body: unknown): Promise<DatasetRecord> {
    const spec = parseBody(DatasetSpec, body);
    const files = datasetFiles(this.config.OUTPUT_DIR, spec.name);
    if (existsSync(files.h5) && !(await this.store.idByName(spec.name))) {
      throw ApiError.conflict(`name: ${spec.name} is taken (${files.h5} already exists)`);
    }
    const record = await this.store.createDataset(spec, files);
    if (!record)
      throw ApiError.conflict(
        `name: a dataset named ${spec.name} already exists (names are never overwritten)`,
      );
    return record;
  }

  list(offset: number, limit: number): Promise<DatasetRecord[]> {
    return this.store.listDatasets(offset, limit);
  }

  async get(id: string): Promise<DatasetRecord> {
    const d = await this.store.getDataset(id);
    if (!d) throw ApiError.notFound(`dataset ${id} does not exist`);
    return d;
  }

  async views(id: string) {
    await this.get(id);
    return this.store.listViews(id);
  }

  async xml(id: string): Promise<string> {
    const d = await this.get(id);
    if (d.status !== 'complete' || !existsSync(d.files.xml)) {
      throw ApiError.notFound(
        `dataset ${id} has no XML yet (status ${d.status}; it is written by the finalize)`,
      );
    }
    return readFileSync(d.files.xml, 'utf8');
  }

  async submitView(id: string, body: unknown, reopen = false): Promise<ViewAccepted> {
    const dataset = await this.get(id);
    const view = parseBody(ViewSpec, body);
    this.assertFits(dataset, view);
    await this.assertSourceExists(view.source.uri);
    return this.queueView(dataset, view, reopen);
  }

  /** Streams an uploaded stack straight into the raw bucket (never buffered whole), then queues it. */
  async upload(
    id: string,
    viewKey: string,
    query: unknown,
    metadataHeader: string | undefined,
    body: Readable,
  ): Promise<ViewAccepted> {
    const dataset = await this.get(id);
    const indices = parseViewKey(viewKey);
    if (!indices)
      throw ApiError.badRequest(
        `viewKey: ${viewKey} is not t<time>-i<illumination>-c<channel>-s<tile>-a<angle>`,
      );
    const q = UploadQuery.safeParse(query);
    if (!q.success)
      throw ApiError.badRequest(
        `query: ${q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    let metadata: Record<string, unknown> = {};
    if (metadataHeader) {
      try {
        metadata = JSON.parse(metadataHeader) as Record<string, unknown>;
      } catch {
        throw ApiError.badRequest('X-BDV-View-Metadata: not valid JSON');
      }
    }
    const ext = q.data.format === 'tiff' ? 'tif' : q.data.format;
    const key = `uploads/${id}/${viewKey}.${ext}`;
    const uri = `s3://${this.config.RAW_BUCKET}/${key}`;
    const view = parseBody(ViewSpec, { ...metadata, ...indices, source: { uri, ...q.data } });
    this.assertFits(dataset, view);
    const existing = await this.store.getView(id, viewKey);
    if (existing && existing.state !== 'failed')
      throw ApiError.conflict(`view ${viewKey} is already ${existing.state}`);
    if (dataset.finalizeRequested || dataset.status === 'finalizing')
      throw ApiError.conflict(`dataset ${id} is finalized: no more views`);
    await uploadStream(this.s3, this.config.RAW_BUCKET, key, body);
    return this.queueView(dataset, view, false);
  }

  async finalize(id: string, body: unknown): Promise<DatasetRecord> {
    await this.get(id);
    const options: FinalizeOptions = parseBody(FinalizeSpec, body ?? {});
    const generation = await this.store.requestFinalize(id, options);
    if (generation !== undefined) await this.queues.enqueueFinalize(id, generation);
    return this.get(id);
  }

  private assertFits(dataset: DatasetRecord, view: ViewSpec): void {
    const problems: FieldProblem[] = viewRangeProblems(dataset.spec, view);
    if (problems.length > 0)
      throw ApiError.badRequest(problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
  }

  private async assertSourceExists(uri: string): Promise<void> {
    try {
      await sourceSize(this.s3, parseSourceUri(uri, this.config.FILE_SOURCE_ROOTS));
    } catch (error) {
      if (error instanceof StorageError) {
        if (error.code === 'FAILED' || error.code === 'TRANSIENT')
          throw new ApiError(503, `source.uri: ${error.message}`);
        throw ApiError.badRequest(`source.uri: ${error.message}`, [
          { field: 'source.uri', message: error.message },
        ]);
      }
      throw error;
    }
  }

  private async queueView(dataset: DatasetRecord, view: ViewSpec, reopen: boolean): Promise<ViewAccepted> {
    const outcome = await this.store.addView(dataset, view, reopen);
    const { viewKey, jobId } = outcome;
    if (!outcome.ok) {
      if (outcome.reason === 'NO_DATASET') throw ApiError.notFound(`dataset ${dataset.id} does not exist`);
      if (outcome.reason === 'DUPLICATE')
        throw ApiError.conflict(`view ${viewKey} was already submitted (${outcome.state})`);
      throw ApiError.conflict(`dataset ${dataset.id} is finalized (${outcome.state}): no more views`);
    }
    try {
      await this.queues.enqueueWrite(dataset.id, viewKey);
    } catch (error) {
      // Never leave a view "queued" with no job behind it: it would block the finalize forever.
      await this.store.failView(dataset.id, viewKey, `could not be queued: ${(error as Error).message}`);
      throw new ApiError(
        503,
        `view ${viewKey} could not be queued (${(error as Error).message}); submit it again`,
      );
    }
    return { viewKey, jobId, status: 'queued' };
  }
}
