import type { S3Client } from '@aws-sdk/client-s3';
import { resolveSetupCounts, timepointsProblem } from '@bdv-cluster/bdv';
import {
  DatasetSpec,
  FinalizeSpec,
  parseViewKey,
  SOURCE_OPTION_FIELDS,
  sourceOptionsFromQuery,
  ViewSpec,
  viewRangeProblems,
  describeProblems,
  fieldProblems,
  type FieldProblem,
} from '@bdv-cluster/contract';
import {
  DatasetStore,
  RegisterDataset,
  RequestFinalize,
  SubmitViews,
  type ClusterConfig,
  type DatasetRecord,
  type FinalizeOptions,
  type ViewPage,
} from '@bdv-cluster/pipeline';
import { uploadStream } from '@bdv-cluster/storage';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { readFileSync } from 'node:fs';
import { ApiError } from '../common/api-error.js';
import { toHttpError } from '../common/domain-errors.js';
import { assertSourceFits, headerShapeProblem, sourceHeader } from '../common/source-checks.js';
import { assertViewKey } from '../common/id-params.js';
import { fieldDifferences } from '../common/spec-diff.js';
import type { ViewsQuery } from './views-query.js';
import { ViewOrderCache } from './view-order-cache.js';
import { CONFIG, S3 } from '../common/tokens.js';
import { parseBody } from '../common/zod-body.js';
import { refuseUnknownParams } from '../common/query-params.js';
import { assertStackBody, discardUpload, uploadKeyOf } from './staged-upload.js';
import { acceptBody, refuseBody } from './upload-body.js';
import { limitedBody, UploadLimit } from './upload-limit.js';
import { xmlRefusal } from './xml-refusal.js';

/** How often a finalize with timepoints checks the views again when more arrive meanwhile. */
const FINALIZE_CHECKS = 3;

export interface ViewAccepted {
  viewKey: string;
  jobId: string;
  status: 'queued';
}

/** The dataset/view routes of the v1 API: validation at the edge, then the pipeline's use cases. */
@Injectable()
export class DatasetsService {
  private readonly orders = new ViewOrderCache();

  constructor(
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(S3) private readonly s3: S3Client,
    private readonly store: DatasetStore,
    private readonly register: RegisterDataset,
    private readonly submitViews: SubmitViews,
    private readonly requestFinalize: RequestFinalize,
  ) {}

  /**
   * Names are compared case-insensitively (a case-insensitive volume would merge `Run1` and
   * `run1`); the store claims them that way too, this only words the refusal.
   */
  async create(body: unknown): Promise<DatasetRecord> {
    const spec = parseBody(DatasetSpec, body);
    const taken = await this.register.existing(spec.name);
    if (taken && taken.name !== spec.name)
      throw ApiError.conflict(
        `name: ${spec.name} differs only in letter case from dataset ${taken.name} (${taken.id}); names are compared case-insensitively`,
        'name',
      );
    return this.register.execute(spec);
  }

  list(offset: number, limit: number): Promise<DatasetRecord[]> {
    return this.store.listDatasets(offset, limit);
  }

  async get(id: string): Promise<DatasetRecord> {
    const d = await this.store.getDataset(id);
    if (!d) throw ApiError.notFound(`dataset ${id} does not exist`, 'id');
    return d;
  }

  /**
   * A page of the dataset's views in order (404 first when there is no such dataset): its views a
   * batch at a time, and the cursor of the next page when more follow.
   */
  async viewPage(id: string, asked: ViewsQuery): Promise<ViewPage> {
    const dataset = await this.get(id);
    // A whole listing reads its keys once anyway; pages keep them for the next page.
    if (asked.after === undefined && asked.limit === undefined) return this.store.viewPage(id, asked);
    let order = this.orders.get(dataset, asked.state);
    if (!order) {
      order = await this.store.viewOrder(id, asked.state);
      this.orders.set(dataset, asked.state, order);
    }
    return this.store.viewPage(id, { ...asked, order });
  }

  async xml(id: string): Promise<string> {
    const d = await this.get(id);
    const refusal = xmlRefusal(d);
    if (refusal) throw refusal;
    return readFileSync(d.files.xml, 'utf8');
  }

  /**
   * POST …/views: a source already in object storage (an allowed bucket) or an allowed folder;
   * it must exist and its header (for raw: its size) must agree with the declaration.
   */
  async submitView(id: string, body: unknown): Promise<ViewAccepted> {
    const dataset = await this.get(id);
    const view = parseBody(ViewSpec, body);
    assertFits(dataset, view);
    const shapeZyx = await assertSourceFits(this.s3, this.config, view.source, 'source');
    assertShapeFits(dataset, view, shapeZyx, 'source');
    return this.queueOne(dataset, view);
  }

  /**
   * PUT …/views/:viewKey/data: the body is streamed (never buffered) to an object of its own in
   * the raw bucket, checked against the declaration once stored, then the view is claimed with
   * that object as its source. Whatever is not converted — refused, or the loser of concurrent
   * uploads of one view — is deleted again.
   */
  async upload(
    id: string,
    viewKey: string,
    query: unknown,
    metadataHeader: string | undefined,
    req: Request,
  ): Promise<ViewAccepted> {
    let accepted;
    try {
      accepted = await this.acceptUpload(id, viewKey, query, metadataHeader, req);
    } catch (error) {
      // Refused before its body: a client still sending it hears why (one waiting for 100
      // Continue sends none).
      await refuseBody(req, req.res);
      throw error;
    }
    const { dataset, view, key, bucket } = accepted;
    // No byte past what the body can hold reaches the bucket (a wrong or hostile upload of any
    // size was stored whole before its header was looked at).
    const limit = new UploadLimit(view.source, this.config.UPLOAD_MAX_BYTES);
    const stopIdleTimeout = acceptBody(req, req.res);
    try {
      const bytes = await uploadStream(this.s3, bucket, key, limitedBody(req, limit));
      if (bytes === 0) throw ApiError.badRequest('body: empty (the stack bytes are the body)', 'body');
      const found = await sourceHeader(this.s3, this.config, view.source);
      // Said of "the upload": its object's key (uploads/<id>/<view>-<uuid>) is ours, not the client's.
      const problem = found.problem?.replaceAll(view.source.uri, 'the upload');
      if (problem) throw ApiError.badRequest(`body: ${problem}`, [{ field: 'body', message: problem }]);
      assertShapeFits(dataset, view, found.shapeZyx!, 'body');
      return await this.queueOne(dataset, view);
    } catch (error) {
      await refuseBody(req, req.res, limit);
      await discardUpload(this.s3, bucket, key);
      throw limit.refusal ?? toHttpError(error, 'body');
    } finally {
      stopIdleTimeout();
    }
  }

  /** An upload's checks before its body: what it claims, where it goes, and that it may come. */
  private async acceptUpload(
    id: string,
    viewKey: string,
    query: unknown,
    metadataHeader: string | undefined,
    req: Request,
  ) {
    assertStackBody(req);
    const dataset = await this.get(id);
    const bucket = this.config.RAW_BUCKET;
    const { view, key } = uploadedViewSpec(viewKey, query, metadataHeader, bucket, id);
    assertFits(dataset, view);
    const existing = await this.store.getView(id, viewKey);
    if (existing && existing.state !== 'failed')
      throw ApiError.conflict(`view ${viewKey} is already ${existing.state}`, 'viewKey');
    if (dataset.finalizeRequested || dataset.status === 'finalizing')
      throw ApiError.conflict(`dataset ${id} is finalized: no more views`, 'id');
    const tooLarge = UploadLimit.refusedUpFront(view.source, this.config.UPLOAD_MAX_BYTES);
    if (tooLarge) throw tooLarge;
    return { dataset, view, key, bucket };
  }

  /**
   * Finalize options shape the XML; once it is written (or being written) they cannot change:
   * a different set is refused (409) rather than silently dropped, the same (or none) is a no-op.
   */
  async finalize(id: string, body: unknown): Promise<DatasetRecord> {
    const dataset = await this.get(id);
    const options: FinalizeOptions = parseBody(FinalizeSpec, body ?? {});
    if (dataset.status === 'complete' || dataset.status === 'finalizing') {
      const before: Record<string, unknown> = { ...dataset.finalizeOptions };
      const changed = fieldDifferences(before, { ...before, ...options }, '');
      if (changed.length === 0) return dataset;
      throw ApiError.conflict(
        `dataset ${id} is ${dataset.status}: its XML is written with the finalize options it had (${changed.map((c) => c.field).join(', ')} would change); re-finalizing is not supported — register a new dataset`,
        changed,
      );
    }
    const timepoints = options.timepoints;
    if (timepoints === undefined) await this.requestFinalize.execute(id, options);
    else await this.finalizeCheckedAgainstViews(dataset, options, timepoints);
    return this.get(id);
  }

  /**
   * A finalize whose timepoints were checked against the views is recorded only if no view was
   * added or retried since the check (one could need more timepoints): otherwise checked again.
   */
  private async finalizeCheckedAgainstViews(
    dataset: DatasetRecord,
    options: FinalizeOptions,
    timepoints: number,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const admitted = await this.assertTimepointsFit(dataset, timepoints);
      if ((await this.requestFinalize.execute(dataset.id, options, admitted)) !== 'CHANGED') return;
      if (attempt === FINALIZE_CHECKS)
        throw ApiError.conflict(
          `dataset ${dataset.id}: views kept arriving while its timepoints were checked; finalize once they are in`,
          'timepoints',
        );
    }
  }

  /**
   * The finalizer refuses timepoints that make too many views, or fewer than a view written needs;
   * refused here instead, before the dataset would be `failed` for it. Failed and cancelled views
   * do not count: they are missing from the XML whatever the timepoints.
   */
  private async assertTimepointsFit(dataset: DatasetRecord, timepoints: number): Promise<number> {
    let problem = timepointsProblem(resolveSetupCounts(dataset.spec.setup), timepoints);
    const { latest, admitted } = await this.store.latestLiveViewTime(dataset.id);
    if (!problem && latest !== undefined && latest >= timepoints)
      problem = `${timepoints}, but a view submitted has time ${latest} (needs at least ${latest + 1})`;
    if (problem)
      throw ApiError.badRequest(`timepoints: ${problem}`, [{ field: 'timepoints', message: problem }]);
    return admitted;
  }

  private async queueOne(dataset: DatasetRecord, view: ViewSpec): Promise<ViewAccepted> {
    const { queued, refused } = await this.submitViews.execute(dataset, [view]);
    const [no] = refused;
    if (no?.reason === 'NO_DATASET') throw ApiError.notFound(`dataset ${dataset.id} does not exist`, 'id');
    if (no?.reason === 'DUPLICATE')
      throw ApiError.conflict(`view ${no.viewKey} was already submitted (${no.state})`, 'viewKey');
    if (no?.reason === 'CANCELLED')
      throw ApiError.conflict(`dataset ${dataset.id} is ${no.state}: no more views`, 'id');
    if (no) throw ApiError.conflict(`dataset ${dataset.id} is finalized (${no.state}): no more views`, 'id');
    return { ...queued[0]!, status: 'queued' };
  }
}

function assertFits(dataset: DatasetRecord, view: ViewSpec): void {
  const problems = viewRangeProblems(dataset.spec, view);
  if (problems.length > 0) throw ApiError.badRequest(describeProblems(problems), problems);
}

function assertShapeFits(dataset: DatasetRecord, view: ViewSpec, shapeZyx: number[], field: string): void {
  const message = headerShapeProblem(dataset.spec, view, shapeZyx);
  if (message) throw ApiError.badRequest(`${field}: ${message}`, [{ field, message }]);
}

/**
 * The view an upload describes: indices from its key, source options from the query string
 * (one codec with `bdv submit`, see libs/contract), metadata from the X-BDV-View-Metadata header,
 * and as source the upload's own object.
 */
function uploadedViewSpec(
  viewKey: string,
  query: unknown,
  metadataHeader: string | undefined,
  bucket: string,
  datasetId: string,
): { view: ViewSpec; key: string } {
  const indices = parseViewKey(assertViewKey(viewKey))!;
  refuseUnknownParams(query as Record<string, unknown>, Object.keys(SOURCE_OPTION_FIELDS));
  const options = sourceOptionsFromQuery({ format: 'npy', ...(query as object) });
  if (!options.success) {
    const details = fieldProblems(options.error).map((p) => ({ ...p, field: `query.${p.field}` }));
    throw ApiError.badRequest(describeProblems(details), details);
  }
  const metadata = uploadMetadataOf(metadataHeader, viewKey, indices);
  const key = uploadKeyOf(datasetId, viewKey, options.data.format ?? 'npy');
  const source = { ...options.data, uri: `s3://${bucket}/${key}` };
  const view = ViewSpec.safeParse({ ...metadata, ...indices, source });
  if (!view.success) {
    // Named where the client wrote them: the upload's body is the stack, not JSON.
    const details = fieldProblems(view.error).map((p) => ({ ...p, field: uploadFieldOf(p.field) }));
    throw ApiError.badRequest(describeProblems(details), details);
  }
  return { view: view.data, key };
}

/** A view field of an upload, named by where it came from: the query (the source) or the header. */
function uploadFieldOf(field: string): string {
  if (field === 'source') return 'query';
  if (field.startsWith('source.')) return `query.${field.slice('source.'.length)}`;
  return field === '(body)' ? METADATA_HEADER : `${METADATA_HEADER}.${field}`;
}

const METADATA_HEADER = 'X-BDV-View-Metadata';
const VIEW_INDICES = ['time', 'illumination', 'channel', 'tile', 'angle'] as const;

/**
 * The X-BDV-View-Metadata header: a JSON object of view metadata. What the upload says elsewhere
 * is refused rather than overridden — indices other than its key's (`{"time":5}` on t0-…: which
 * did the client mean?) and a `source` (the body is the source; its options are the query).
 */
function uploadMetadataOf(
  header: string | undefined,
  viewKey: string,
  indices: Record<(typeof VIEW_INDICES)[number], number>,
): Record<string, unknown> {
  if (!header) return {};
  let metadata: unknown;
  try {
    metadata = JSON.parse(header);
  } catch {
    throw ApiError.badRequest(`${METADATA_HEADER}: not valid JSON`, METADATA_HEADER);
  }
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw ApiError.badRequest(`${METADATA_HEADER}: must be a JSON object of view metadata`, METADATA_HEADER);
  const fields = metadata as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const name of VIEW_INDICES)
    if (name in fields && fields[name] !== indices[name])
      problems.push({
        field: `${METADATA_HEADER}.${name}`,
        message: `${JSON.stringify(fields[name])} differs from the view key ${viewKey} (${name} ${indices[name]}): leave it out, the key says it`,
      });
  if ('source' in fields)
    problems.push({
      field: `${METADATA_HEADER}.source`,
      message:
        'not taken for an upload: its bytes are the source (format, shape, dtype, byte order, header bytes go in the query string)',
    });
  if (problems.length > 0) throw ApiError.badRequest(describeProblems(problems), problems);
  return fields;
}
