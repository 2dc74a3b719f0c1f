import type { S3Client } from '@aws-sdk/client-s3';
import {
  DatasetSpec,
  FinalizeSpec,
  parseViewKey,
  sourceOptionsFromQuery,
  ViewSpec,
  viewRangeProblems,
  describeProblems,
  fieldProblems,
} from '@bdv-cluster/contract';
import {
  DatasetStore,
  RegisterDataset,
  RequestFinalize,
  SubmitViews,
  type ClusterConfig,
  type DatasetRecord,
  type FinalizeOptions,
} from '@bdv-cluster/pipeline';
import { parseSourceUri, sourceSize, uploadStream } from '@bdv-cluster/storage';
import { Inject, Injectable } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { ApiError } from '../common/api-error.js';
import { asHttp } from '../common/domain-errors.js';
import { CONFIG, S3 } from '../common/tokens.js';
import { parseBody } from '../common/zod-body.js';

export interface ViewAccepted {
  viewKey: string;
  jobId: string;
  status: 'queued';
}

/** The dataset/view routes of the v1 API: validation at the edge, then the pipeline's use cases. */
@Injectable()
export class DatasetsService {
  constructor(
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(S3) private readonly s3: S3Client,
    private readonly store: DatasetStore,
    private readonly register: RegisterDataset,
    private readonly submitViews: SubmitViews,
    private readonly requestFinalize: RequestFinalize,
  ) {}

  create(body: unknown): Promise<DatasetRecord> {
    return this.register.execute(parseBody(DatasetSpec, body));
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

  /** POST …/views: a source already in object storage or an allowed folder (it must exist). */
  async submitView(id: string, body: unknown): Promise<ViewAccepted> {
    const dataset = await this.get(id);
    const view = parseBody(ViewSpec, body);
    assertFits(dataset, view);
    await asHttp(
      () => sourceSize(this.s3, parseSourceUri(view.source.uri, this.config.FILE_SOURCE_ROOTS)),
      'source.uri',
    );
    return this.queueOne(dataset, view);
  }

  /** PUT …/views/:viewKey/data: the body is streamed into the raw bucket (never buffered), then queued. */
  async upload(
    id: string,
    viewKey: string,
    query: unknown,
    metadataHeader: string | undefined,
    body: Readable,
  ): Promise<ViewAccepted> {
    const dataset = await this.get(id);
    const bucket = this.config.RAW_BUCKET;
    const { view, key } = uploadedViewSpec(viewKey, query, metadataHeader, bucket, id);
    assertFits(dataset, view);
    const existing = await this.store.getView(id, viewKey);
    if (existing && existing.state !== 'failed')
      throw ApiError.conflict(`view ${viewKey} is already ${existing.state}`);
    if (dataset.finalizeRequested || dataset.status === 'finalizing')
      throw ApiError.conflict(`dataset ${id} is finalized: no more views`);
    await asHttp(() => uploadStream(this.s3, bucket, key, body), 'body');
    return this.queueOne(dataset, view);
  }

  async finalize(id: string, body: unknown): Promise<DatasetRecord> {
    await this.get(id);
    const options: FinalizeOptions = parseBody(FinalizeSpec, body ?? {});
    await this.requestFinalize.execute(id, options);
    return this.get(id);
  }

  private async queueOne(dataset: DatasetRecord, view: ViewSpec): Promise<ViewAccepted> {
    const { queued, refused } = await this.submitViews.execute(dataset, [view]);
    const [no] = refused;
    if (no?.reason === 'NO_DATASET') throw ApiError.notFound(`dataset ${dataset.id} does not exist`);
    if (no?.reason === 'DUPLICATE')
      throw ApiError.conflict(`view ${no.viewKey} was already submitted (${no.state})`);
    if (no) throw ApiError.conflict(`dataset ${dataset.id} is finalized (${no.state}): no more views`);
    return { ...queued[0]!, status: 'queued' };
  }
}

function assertFits(dataset: DatasetRecord, view: ViewSpec): void {
  const problems = viewRangeProblems(dataset.spec, view);
  if (problems.length > 0) throw ApiError.badRequest(describeProblems(problems), problems);
}

/**
 * The view an upload describes: indices from its key, source options from the query string
 * (one codec with `bdv submit`, see libs/contract), metadata from the X-BDV-View-Metadata header.
 */
function uploadedViewSpec(
  viewKey: string,
  query: unknown,
  metadataHeader: string | undefined,
  bucket: string,
  datasetId: string,
): { view: ViewSpec; key: string } {
  const indices = parseViewKey(viewKey);
  if (!indices)
    throw ApiError.badRequest(
      `viewKey: ${viewKey} is not t<time>-i<illumination>-c<channel>-s<tile>-a<angle>`,
    );
  const options = sourceOptionsFromQuery({ format: 'npy', ...(query as object) });
  if (!options.success) {
    const details = fieldProblems(options.error).map((p) => ({ ...p, field: `query.${p.field}` }));
    throw ApiError.badRequest(describeProblems(details), details);
  }
  let metadata: Record<string, unknown> = {};
  if (metadataHeader) {
    try {
      metadata = JSON.parse(metadataHeader) as Record<string, unknown>;
    } catch {
      throw ApiError.badRequest('X-BDV-View-Metadata: not valid JSON');
    }
  }
  const ext = options.data.format === 'tiff' ? 'tif' : options.data.format;
  const key = `uploads/${datasetId}/${viewKey}.${ext}`;
  const source = { ...options.data, uri: `s3://${bucket}/${key}` };
  return { view: parseBody(ViewSpec, { ...metadata, ...indices, source }), key };
}
