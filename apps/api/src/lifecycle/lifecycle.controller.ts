import { Controller, Delete, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CancelDataset, datasetStatusJson, RetryView, writeJobId } from '@bdv-cluster/pipeline';
import type { Response } from 'express';
import { DatasetIdPipe, ViewKeyPipe } from '../common/id-params.js';
import { ApiError } from '../common/api-error.js';
import { CANCEL_WAIT_MS } from './lifecycle-providers.js';
import { QueryParams } from '../common/request-shape.js';
import { ApiAnswers, NO_DATASET } from '../docs/answers.js';

/** The `purge` query flag: absent, true or false — anything else names the parameter. */
function purgeOf(query: Record<string, unknown>): boolean {
  const extra = Object.keys(query).filter((k) => k !== 'purge');
  if (extra.length > 0)
    throw ApiError.badRequest(`query.${extra[0]}: unknown parameter (only purge)`, `query.${extra[0]}`);
  const value = query.purge;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw ApiError.badRequest('query.purge: must be true or false', [
    { field: 'query.purge', message: 'must be true or false' },
  ]);
}

/** Cancel (DELETE) and retry: glue over the CancelDataset and RetryView use cases. */
@ApiTags('datasets')
@ApiBearerAuth()
@Controller('v1/datasets')
export class LifecycleController {
  constructor(
    private readonly cancel: CancelDataset,
    private readonly retry: RetryView,
  ) {}

  @Delete(':id')
  @ApiOperation({
    summary: `Cancel a dataset: queued views are dropped, running ones stop at their next slab and are undone, its files are removed and its name is free again unless a copy it exported to OUTPUT_BUCKET is kept there (200, status "cancelled"). A complete dataset only with ?purge=true (409 otherwise). Views still running after ${CANCEL_WAIT_MS / 1000} s: 202 "cancelling" — DELETE again to finish.`,
  })
  @ApiQuery({ name: 'purge', required: false, schema: { type: 'string', enum: ['true', 'false'] } })
  @ApiAnswers({
    200: 'the dataset, cancelled: its outputs removed, its name free',
    202: `views have not stopped within ${CANCEL_WAIT_MS / 1000} s: the dataset, "cancelling", with stillRunning; DELETE again to finish`,
    400: 'purge is neither true nor false',
    404: NO_DATASET,
    409: 'the dataset is complete: only with ?purge=true',
  })
  @QueryParams('purge')
  async remove(
    @Param('id', DatasetIdPipe) id: string,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { dataset, stillRunning } = await this.cancel.execute(id, purgeOf(query));
    if (stillRunning.length > 0) {
      res.status(202);
      return {
        ...datasetStatusJson(dataset),
        stillRunning,
        message: `${stillRunning.length} view(s) have not stopped yet; DELETE again to finish (outputs are removed and the name freed once they have)`,
      };
    }
    return datasetStatusJson(dataset);
  }

  @Post(':id/views/:viewKey/retry')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Queue a failed view again (409 unless it failed, or while the dataset is finalizing or cancelled); the dataset finalizes again once it settles. No body (400 for one other than {})',
  })
  @ApiParam({ name: 'viewKey', example: 't0-i0-c1-s0-a0' })
  @ApiAnswers({
    202: 'the view, queued again',
    400: 'the view key is not written as the API writes them (t0-i0-c0-s0-a0)',
    404: `${NO_DATASET}, or the view was never submitted`,
    409: 'the view has not failed, its time is past the timepoints the dataset was finalized with, or the dataset is finalizing or cancelled',
    503: 'the view could not be queued again',
  })
  async retryView(@Param('id', DatasetIdPipe) id: string, @Param('viewKey', ViewKeyPipe) viewKey: string) {
    await this.retry.execute(id, viewKey);
    return { viewKey, jobId: writeJobId(id, viewKey), status: 'queued' as const };
  }
}
