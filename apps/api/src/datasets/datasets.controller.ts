import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { MAX_HEADER_BYTES } from '@bdv-cluster/contract';
import { datasetStatusJson, VIEW_STATES, type ViewEntry } from '@bdv-cluster/pipeline';
import { BYTE_ORDERS, SAMPLE_TYPES, STACK_FORMATS } from '@bdv-cluster/stacks';
import { DatasetIdPipe } from '../common/id-params.js';
import { DatasetsService } from './datasets.service.js';
import { MAX_VIEWS_PAGE, nextPageLink, viewsQueryOf } from './views-query.js';
import { sendJsonArray } from '../common/json-array-reply.js';
import { listWindowOf, MAX_LIST_LIMIT, MAX_LIST_OFFSET } from '../common/list-window.js';
import { ApiAnswers, NO_DATASET, textAnswer } from '../docs/answers.js';
import { schemaOf } from '../docs/schemas.js';
import { ChecksOwnRequest, QueryParams, TakesBody } from '../common/request-shape.js';

@ApiTags('datasets')
@ApiBearerAuth()
@Controller('v1/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @ApiOperation({
    summary: 'Register a dataset (201; 409 if the name is taken or its output folder holds files)',
  })
  @ApiBody({ schema: schemaOf('DatasetSpec') })
  @ApiAnswers({
    201: 'the dataset, registered ("open")',
    400: 'a field of the body is wrong or unknown, or notify.url names a host NOTIFY_ALLOWED_HOSTS does not list',
    409: 'the name is taken (in any letter case), or its output folder or export prefix already holds files',
  })
  @TakesBody()
  async create(@Body() body: unknown) {
    return present(await this.datasets.create(body));
  }

  @Get()
  @ApiOperation({
    summary: `List datasets, newest first (offset 0..${MAX_LIST_OFFSET}, limit 1..${MAX_LIST_LIMIT})`,
  })
  @ApiQuery({
    name: 'offset',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: MAX_LIST_OFFSET },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT },
  })
  @ApiAnswers({ 200: 'the datasets, newest first', 400: 'offset or limit out of range' })
  @QueryParams('offset', 'limit')
  async list(@Query() query: Record<string, unknown>) {
    const { offset, limit } = listWindowOf(query);
    return (await this.datasets.list(offset, limit)).map(present);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Status, per-state view counts, files and errors' })
  @ApiAnswers({ 200: 'the dataset', 404: NO_DATASET })
  async get(@Param('id', DatasetIdPipe) id: string) {
    return present(await this.datasets.get(id));
  }

  @Get(':id/views')
  @ApiOperation({
    summary:
      'Every view with its state (or those in ?state), by time then setup; with ?limit a page of them and, when more follow, a Link header (rel="next") to the next page (?after=<last view key of this page>). Sent chunked as it is read, 1,000 views at a time (not one snapshot); a connection cut before the closing ] is not the whole list',
  })
  @ApiQuery({
    name: 'state',
    required: false,
    description: 'only the views in this state (e.g. failed: what to fix and retry)',
    schema: { type: 'string', enum: [...VIEW_STATES] },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `at most this many views (1..${MAX_VIEWS_PAGE}); absent: all of them`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_VIEWS_PAGE },
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description:
      'only views after this view key in the listing order (the last key of the previous page; the view need not exist)',
    schema: { type: 'string', example: 't0-i0-c0-s4-a0' },
  })
  @ApiAnswers({
    200: 'the views, a JSON array sent as it is read; a Link header (rel="next") when more follow',
    400: 'state, limit or after is not one the listing takes',
    404: NO_DATASET,
  })
  @QueryParams('state', 'limit', 'after')
  async views(
    @Param('id', DatasetIdPipe) id: string,
    @Query() query: Record<string, unknown>,
    @Res() res: Response,
  ) {
    const asked = viewsQueryOf(query);
    const page = await this.datasets.viewPage(id, asked);
    const headers: Record<string, string> = {};
    if (page.next) headers.Link = nextPageLink(id, asked, page.next);
    await sendJsonArray(res, page.views, presentView, { headers });
  }

  @Get(':id/xml')
  @Header('Content-Type', 'application/xml; charset=utf-8')
  @ApiOperation({ summary: 'The SpimData XML of a complete dataset' })
  @ApiAnswers({
    200: textAnswer('application/xml', 'the SpimData XML'),
    404: `${NO_DATASET}, or it has no XML yet (the finalize writes it)`,
    410: 'the dataset is cancelled: it never gets an XML',
  })
  xml(@Param('id', DatasetIdPipe) id: string) {
    return this.datasets.xml(id);
  }

  @Post(':id/views')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Submit a view by s3:// (RAW_BUCKET or SOURCE_BUCKETS) or file:// (FILE_SOURCE_ROOTS) URI; the source must exist and its header (raw: its size) match the declaration',
  })
  @ApiBody({ schema: schemaOf('ViewSpec') })
  @ApiAnswers({
    202: 'the view, queued',
    400: "a field of the body is wrong, an index is past the dataset's counts, or the source is missing, not in an allowed bucket or folder, or not what its declaration says (a TIFF read as .npy is said so)",
    404: NO_DATASET,
    409: 'the view was already submitted and has not failed, the dataset is finalized or cancelled, or the source changed while its header was read',
  })
  @TakesBody()
  submit(@Param('id', DatasetIdPipe) id: string, @Body() body: unknown) {
    return this.datasets.submitView(id, body);
  }

  @Put(':id/views/:viewKey/data')
  @HttpCode(202)
  @ApiOperation({
    summary:
      "Upload a stack (body = file bytes, application/octet-stream, streamed to the raw bucket); checked against the declared format/shape once stored, then queued (415 other body types or a Content-Encoding such as gzip: send the bytes as they are; 400 empty or mismatching body, 413 a body longer than a raw body's declared size, a .npy's own header, a TIFF's declared shape or the operator's UPLOAD_MAX_BYTES allow: nothing past that is stored)",
  })
  @ApiConsumes('application/octet-stream')
  @ApiParam({ name: 'viewKey', example: 't0-i0-c1-s0-a0' })
  @ApiQuery({
    name: 'format',
    required: false,
    schema: { type: 'string', enum: [...STACK_FORMATS], default: 'npy' },
  })
  @ApiQuery({
    name: 'shapeZyx',
    required: false,
    description: 'z,y,x (required for raw)',
    schema: { type: 'string', example: '5,20,30' },
  })
  @ApiQuery({ name: 'dtype', required: false, schema: { type: 'string', enum: [...SAMPLE_TYPES] } })
  @ApiQuery({ name: 'byteOrder', required: false, schema: { type: 'string', enum: [...BYTE_ORDERS] } })
  @ApiQuery({
    name: 'headerBytes',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: MAX_HEADER_BYTES },
  })
  @ApiHeader({
    name: 'X-BDV-View-Metadata',
    required: false,
    description:
      'JSON object of view metadata (voxelSizeXyz, voxelUnits, calibrationXyz, affine, exposureTime, cameraName…); indices come from the view key (one that differs is a 400), and no source (the body is the source)',
  })
  @ApiAnswers(
    {
      202: 'the view, queued with the upload as its source',
      400: 'a bad view key, query parameter or X-BDV-View-Metadata field, an empty body, or a body that is not the stack declared (a TIFF sent without ?format=tiff is said so)',
      404: NO_DATASET,
      409: 'the view is already queued, running or done, or the dataset is finalized or cancelled',
      413: "more bytes than the declaration (a .npy's own header, a raw or TIFF's shape) or UPLOAD_MAX_BYTES allows: nothing past that is stored",
      415: 'a body other than application/octet-stream, or with a Content-Encoding',
    },
    'upload',
  )
  @ChecksOwnRequest()
  upload(
    @Param('id', DatasetIdPipe) id: string,
    @Param('viewKey') viewKey: string,
    @Query() query: Record<string, string>,
    @Headers('x-bdv-view-metadata') metadata: string | undefined,
    @Req() req: Request,
  ) {
    return this.datasets.upload(id, viewKey, query, metadata, req);
  }

  @Post(':id/finalize')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Write the XML once every submitted view is settled (409 if no view was submitted yet, or if complete or finalizing and the options would change; the body is optional)',
  })
  @ApiBody({ schema: schemaOf('FinalizeBody'), required: false })
  @ApiAnswers({
    202: 'the dataset: its XML is written once every view has settled',
    400: 'a field of the body is wrong, or timepoints are fewer than a submitted view needs',
    404: NO_DATASET,
    409: 'no view was submitted yet, the dataset is cancelled, or it is complete or finalizing and the options would change',
  })
  @TakesBody()
  async finalize(@Param('id', DatasetIdPipe) id: string, @Body() body: unknown) {
    return present(await this.datasets.finalize(id, body));
  }
}

/** The public dataset shape of the v1 contract (the same JSON a notification carries). */
const present = datasetStatusJson;

/** One view as GET /v1/datasets/:id/views lists it. */
function presentView({ viewKey, state, spec, setupId, jobId, error, result }: ViewEntry) {
  return {
    viewKey,
    state,
    setupId,
    jobId,
    source: spec.source.uri,
    error,
    bytes: result?.bytes,
    seconds: result?.seconds,
  };
}
