import {
  ClusterQueues,
  DatasetStore,
  RegisterDataset,
  RequestFinalize,
  SubmitViews,
  type ClusterConfig,
} from '@bdv-cluster/pipeline';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Provider } from '@nestjs/common';
import { exportCheck } from '../datasets/export-check.js';
import { CONFIG, S3 } from './tokens.js';

/** The pipeline's use cases as Nest providers, over the one store and the one set of queues. */
export const USE_CASE_PROVIDERS: Provider[] = [
  {
    provide: SubmitViews,
    useFactory: (store: DatasetStore, queues: ClusterQueues) => new SubmitViews(store, queues),
    inject: [DatasetStore, ClusterQueues],
  },
  {
    provide: RequestFinalize,
    useFactory: (store: DatasetStore, queues: ClusterQueues) => new RequestFinalize(store, queues),
    inject: [DatasetStore, ClusterQueues],
  },
  {
    provide: RegisterDataset,
    useFactory: (store: DatasetStore, config: ClusterConfig, s3: S3Client) =>
      new RegisterDataset(
        store,
        config.OUTPUT_DIR,
        config.NOTIFY_ALLOWED_HOSTS,
        config.OUTPUT_BUCKET ? exportCheck(s3, config.OUTPUT_BUCKET) : undefined,
      ),
    inject: [DatasetStore, CONFIG, S3],
  },
];
