import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ClusterConfig } from '@bdv-cluster/pipeline';
import { Controller, Get, Inject, Logger } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import { CONFIG, REDIS, S3 } from '../common/tokens.js';
import { ApiAnswers } from '../docs/answers.js';
import { READY_ANSWERS } from '../docs/health-answers.js';

/**
 * Below this much free space the output volume counts as full: views would only wait for room
 * (a writer treats a full volume as an outage), so the service is not ready.
 */
export const OUTPUT_MIN_FREE_BYTES = 32 * 2 ** 20;

/**
 * /health/live: the process answers (restart it if not). /health/ready and /health: Redis, the
 * raw bucket and the output folder all work — the folder writable (not read-only) with at least
 * OUTPUT_MIN_FREE_BYTES free (take it out of the load balancer if not).
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  private readonly log = new Logger('health');

  constructor(
    private readonly health: HealthCheckService,
    @Inject(CONFIG) private readonly config: ClusterConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(S3) private readonly s3: S3Client,
  ) {}

  @Get('live')
  @ApiAnswers({ 200: 'the process answers' }, 'public')
  live() {
    return { status: 'ok' };
  }

  @Get()
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiAnswers(READY_ANSWERS, 'public')
  check() {
    return this.ready();
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiAnswers(READY_ANSWERS, 'public')
  ready() {
    return this.health.check([
      () => this.probe('redis', async () => void (await this.redis.ping())),
      () => this.probe('s3', () => this.s3Ready()),
      () => this.probe('outputDir', async () => this.outputWritable()),
    ]);
  }

  private async s3Ready(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.config.RAW_BUCKET }));
  }

  private outputWritable(): void {
    mkdirSync(this.config.OUTPUT_DIR, { recursive: true });
    accessSync(this.config.OUTPUT_DIR, constants.W_OK); // EROFS on a read-only volume
    const { bavail, bsize } = statfsSync(this.config.OUTPUT_DIR);
    if (bavail * bsize < OUTPUT_MIN_FREE_BYTES)
      throw Object.assign(new Error(`output volume full: ${bavail * bsize} bytes free`), { code: 'ENOSPC' });
  }

  private async probe(key: string, check: () => Promise<void>): Promise<HealthIndicatorResult> {
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 3 s')), 3000)),
      ]);
      return { [key]: { status: 'up' } };
    } catch (error) {
      this.log.warn(`${key} down: ${(error as Error).message}`);
      const { HealthCheckError } = await import('@nestjs/terminus');
      throw new HealthCheckError(`${key} down`, {
        [key]: { status: 'down', message: publicReason(error) },
      });
    }
  }
}

/**
 * What a public probe may say about a failure: the error code or name, never the message (it can
 * hold server paths, hosts or ports). The API log has the whole error.
 */
function publicReason(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string') return e.code;
  if (e.message === 'timed out after 3 s') return e.message;
  return typeof e.name === 'string' ? e.name : 'failed';
}
