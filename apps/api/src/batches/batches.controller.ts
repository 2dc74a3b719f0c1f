import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BatchIdPipe } from '../common/id-params.js';
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
    summary: 'Convert every matching object under an S3 prefix or allowed folder (dryRun lists the plan)',
  })
  @ApiBody({ schema: schemaOf('BatchSpec') })
  @TakesBody()
  create(@Body() body: unknown) {
    return this.batches.create(body);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A batch and its dataset progress' })
  get(@Param('id', BatchIdPipe) id: string) {
    return this.batches.get(id);
  }
}
