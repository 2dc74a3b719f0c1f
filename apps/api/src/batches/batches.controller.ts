import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { BatchIdPipe } from '../common/id-params.js';
import { ApiAnswers } from '../docs/answers.js';
import { schemaOf } from '../docs/schemas.js';
import { BatchesService } from './batches.service.js';
import { TakesBody } from '../common/request-shape.js';

@ApiTags('batches')
@ApiBearerAuth()
@Controller('v1/batches')
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Convert every matching object under an S3 prefix or allowed folder (202); with dryRun only list the plan (200)',
  })
  @ApiBody({ schema: schemaOf('BatchSpec') })
  @ApiAnswers({
    200: 'dryRun: the plan (setup, timepoints, every view and its object); nothing is registered or queued',
    202: "the batch: its dataset registered (or an earlier batch's reused) and every view not yet written queued; the dataset finalizes by itself",
    400: 'a field of the body is wrong, the source is not an allowed bucket or folder or cannot be listed, no object matches the pattern, or sources are not what they declare (up to 20 named)',
    409: "dataset.name is taken by a dataset no batch made, or an earlier batch's dataset of that name is described otherwise (details list each field) or is finalizing, or the batch maps other objects than the earlier one to views already there (details: pattern)",
    503: 'the object store does not answer',
  })
  @TakesBody()
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: Response) {
    const answer = await this.batches.create(body);
    // A dry run queues nothing: its plan is the answer itself, not something accepted for later.
    if ('dryRun' in answer) res.status(200);
    return answer;
  }

  @Get(':id')
  @ApiOperation({ summary: 'A batch and its dataset progress' })
  @ApiAnswers({ 200: "the batch and its dataset's progress", 404: 'no batch has this id' })
  get(@Param('id', BatchIdPipe) id: string) {
    return this.batches.get(id);
  }
}
