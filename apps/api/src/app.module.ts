import { createS3Client } from '@bdv-cluster/storage';
import { ClusterQueues, DatasetStore, s3SettingsOf, type ClusterConfig } from '@bdv-cluster/pipeline';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { BatchesController } from './batches/batches.controller.js';
import { BatchesService } from './batches/batches.service.js';
import { ErrorFilter } from './common/error-filter.js';
import { RequestShapeGuard } from './common/request-shape.js';
import { createStateStoreClient, whenConnected } from './common/state-store.js';
import { CONFIG, REDIS, S3 } from './common/tokens.js';
import { USE_CASE_PROVIDERS } from './common/use-cases.js';
import { DatasetsController } from './datasets/datasets.controller.js';
import { DatasetsService } from './datasets/datasets.service.js';
import { HealthController } from './health/health.controller.js';
import { LifecycleController } from './lifecycle/lifecycle.controller.js';
import { LIFECYCLE_PROVIDERS } from './lifecycle/lifecycle-providers.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PreviewsController } from './previews/previews.controller.js';
import { PreviewsService } from './previews/previews.service.js';
import { StatusController } from './status/status.controller.js';
import { StatusService } from './status/status.service.js';

/** Every controller of the API (its routes' shapes are held to their OpenAPI by a test). */
export const API_CONTROLLERS = [
  DatasetsController,
  BatchesController,
  HealthController,
  MetricsController,
  PreviewsController,
  StatusController,
  LifecycleController,
] as const;

@Module({})
export class AppModule {
  static forConfig(config: ClusterConfig): DynamicModule {
    // BullMQ's queues wait for Redis (maxRetriesPerRequest null, as BullMQ requires); request-time
    // state fails fast instead, so a Redis outage is a quick 503, not a hung request.
    const queueConnection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
    const state = createStateStoreClient(config.REDIS_URL);
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
      controllers: [...API_CONTROLLERS],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: REDIS, useFactory: () => whenConnected(state) },
        {
          provide: S3,
          useValue: createS3Client(s3SettingsOf(config)),
        },
        { provide: DatasetStore, useValue: new DatasetStore(state, config.QUEUE_PREFIX) },
        { provide: ClusterQueues, useValue: new ClusterQueues(queueConnection, config.QUEUE_PREFIX) },
        ...USE_CASE_PROVIDERS,
        ...LIFECYCLE_PROVIDERS,
        DatasetsService,
        BatchesService,
        PreviewsService,
        StatusService,
        { provide: APP_FILTER, useClass: ErrorFilter },
        // every route refuses the query parameters and bodies it would ignore
        { provide: APP_GUARD, useClass: RequestShapeGuard },
      ],
    };
  }
}
