import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { boundedInteger, refuseUnknownParams } from '../common/query-params.js';
import { QueryParams } from '../common/request-shape.js';
import { ApiAnswers, textAnswer } from '../docs/answers.js';
import { renderStatusPage } from './status-page.js';
import { StatusService } from './status.service.js';

const MAX_DATASETS = 100;

/**
 * The status page at `/`: datasets with progress, failures, outages, previews and files; the
 * write queue's depth. Read-only GET (and HEAD), also with Basic credentials (browsers).
 */
@ApiTags('status')
@ApiBearerAuth()
@Controller()
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary:
      'Status page (HTML, refreshes itself): newest datasets with progress (views, bytes, MB/s, ETA), failed and waiting views with reasons, contact sheets, output paths, queue depth. Browsers: Basic auth with the token as password',
  })
  @ApiProduces('text/html')
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_DATASETS, default: 20 },
  })
  @ApiQuery({
    name: 'refresh',
    required: false,
    description: 'seconds between refreshes',
    schema: { type: 'integer', minimum: 1, maximum: 3600, default: 5 },
  })
  @ApiAnswers({
    200: textAnswer('text/html', 'the status page'),
    400: 'limit or refresh out of range',
  })
  @QueryParams('limit', 'refresh')
  async page(@Query() query: Record<string, unknown>, @Res() res: Response) {
    refuseUnknownParams(query, ['limit', 'refresh'], { cacheBuster: true });
    const limit =
      query.limit === undefined ? 20 : boundedInteger('query.limit', query.limit, 1, MAX_DATASETS, 5);
    const refresh =
      query.refresh === undefined ? 5 : boundedInteger('query.refresh', query.refresh, 1, 3600, 5);
    const page = renderStatusPage(await this.status.model(limit, refresh));
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    // No script, nothing from elsewhere, never inside another site's frame.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.end(page);
  }
}
