import { Controller, Get, Param, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DEFAULT_PREVIEW_SIZE, MAX_PREVIEW_SIZE, PROJECTION_AXES } from '@bdv-cluster/bdv/preview';
import type { Request, Response } from 'express';
import { setMaxListeners } from 'node:events';
import { DatasetIdPipe, ViewKeyPipe } from '../common/id-params.js';
import { QueryParams } from '../common/request-shape.js';
import { ApiAnswers, NO_DATASET, textAnswer } from '../docs/answers.js';
import { PREVIEW_DEFAULTS, previewQueryOf, PreviewsService, type PngAnswer } from './previews.service.js';

const AXIS_QUERY = {
  name: 'axis',
  required: false,
  description: 'projection axis (z: the top view)',
  schema: { type: 'string', enum: [...PROJECTION_AXES], default: 'z' },
} as const;

/** An unchanged image, revalidated. */
const NOT_MODIFIED = 'If-None-Match holds its ETag: unchanged since (no body)';
const PREVIEWS_BUSY =
  'its file is being written, or previews are busy (PREVIEW_QUEUE_VIEWS queued, or a read waited too long or stopped): try again shortly';

/**
 * Maximum-projection previews as PNGs. GET (and HEAD) only, and — like the status page that
 * shows them — also with Basic credentials (the token as password), so a browser can load them.
 */
@ApiTags('previews')
@ApiBearerAuth()
@Controller('v1/datasets')
export class PreviewsController {
  constructor(private readonly previews: PreviewsService) {}

  @Get(':id/views/:viewKey/preview.png')
  @ApiOperation({
    summary: `Maximum projection of one written view, 8-bit gray PNG, contrast from its 0.1/99.9 % percentiles, read from the finest pyramid level that fits size px (409 view not written yet, 503 its file is being written or the preview queue is full: try again)`,
  })
  @ApiProduces('image/png')
  @ApiParam({ name: 'viewKey', example: 't0-i0-c1-s0-a0' })
  @ApiQuery(AXIS_QUERY)
  @ApiQuery({
    name: 'size',
    required: false,
    description: 'longest side, px',
    schema: { type: 'integer', minimum: 16, maximum: MAX_PREVIEW_SIZE, default: DEFAULT_PREVIEW_SIZE },
  })
  @ApiAnswers({
    200: textAnswer('image/png', 'the projection (ETag; Cache-Control: private, no-cache)'),
    304: NOT_MODIFIED,
    400: 'axis or size out of range, or a view key not written as the API writes them',
    404: `${NO_DATASET}, or the view was never submitted`,
    409: 'the view is not written (yet), or its file cannot be read',
    503: PREVIEWS_BUSY,
  })
  @QueryParams('axis', 'size')
  async view(
    @Param('id', DatasetIdPipe) id: string,
    @Param('viewKey', ViewKeyPipe) viewKey: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const q = { ...PREVIEW_DEFAULTS, ...previewQueryOf(query, ['axis', 'size']) };
    send(req, res, await this.previews.viewPreview(id, viewKey, q, goneSignal(res)));
  }

  @Get(':id/preview.png')
  @ApiOperation({
    summary:
      'Contact sheet of one timepoint: every view as a maximum projection, rows by channel (and illumination, angle), columns by tile, labelled; views not written (yet) are gray. X-Bdv-Pending: views still to be read (ask again). 422 when the grid needs cells under 16 px (more than 113 tiles or rows): preview those views one by one',
  })
  @ApiProduces('image/png')
  @ApiQuery(AXIS_QUERY)
  @ApiQuery({
    name: 'time',
    required: false,
    description: 'timepoint (the first one with views)',
    schema: { type: 'integer', minimum: 0, maximum: 99_999 },
  })
  @ApiAnswers({
    200: textAnswer('image/png', 'the contact sheet; X-Bdv-Pending: views left gray for now (ask again)'),
    304: NOT_MODIFIED,
    400: 'axis or time out of range',
    404: `${NO_DATASET}, or it has no view (at that timepoint)`,
    409: "a view's file is not where its record says",
    422: 'more than 113 tiles or rows: preview the views one by one',
    503: PREVIEWS_BUSY,
  })
  @QueryParams('axis', 'time')
  async sheet(
    @Param('id', DatasetIdPipe) id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    const q = previewQueryOf(query, ['axis', 'time']);
    send(req, res, await this.previews.sheet(id, q.time, q.axis ?? 'z', goneSignal(res)));
  }
}

/**
 * Aborted when the client closes the connection before its answer is sent (a closed status page, a
 * script that gave up): its preview reads still queued are dropped, not left to hold the queue.
 */
function goneSignal(res: Response): AbortSignal {
  const gone = new AbortController();
  // A sheet listens once per file it reads (up to SHEET_READS_PER_REQUEST): not a leak.
  setMaxListeners(64, gone.signal);
  if (res.destroyed) gone.abort();
  else
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
  return gone.signal;
}

/** The PNG, revalidated by its ETag when final (304 when unchanged), never stored when not. */
function send(req: Request, res: Response, answer: PngAnswer): void {
  res.setHeader('Content-Type', 'image/png');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Bdv-Pending', String(answer.pending));
  if (!answer.etag) {
    res.setHeader('Cache-Control', 'no-store');
    res.end(Buffer.from(answer.png));
    return;
  }
  res.setHeader('Cache-Control', 'private, no-cache');
  res.setHeader('ETag', answer.etag);
  if (req.headers['if-none-match'] === answer.etag) {
    res.status(304).end();
    return;
  }
  res.end(Buffer.from(answer.png));
}
