import {
  CancelDataset,
  ClusterQueues,
  DatasetStore,
  removeDatasetOutputs,
  RetryView,
} from '@bdv-cluster/pipeline';
import type { Provider } from '@nestjs/common';

/**
 * How long DELETE waits for running views to stop at their next slab (writers look every second)
 * and for the single file's write fence; past it the answer is 202 `cancelling` and DELETE again
 * finishes the job.
 */
export const CANCEL_WAIT_MS = 30_000;

/** The cancel and retry use cases over the one store and the one set of queues. */
export const LIFECYCLE_PROVIDERS: Provider[] = [
  {
    provide: CancelDataset,
    useFactory: (store: DatasetStore, queues: ClusterQueues) =>
      new CancelDataset(store, queues, removeDatasetOutputs, { waitMs: CANCEL_WAIT_MS, pollMs: 250 }),
    inject: [DatasetStore, ClusterQueues],
  },
  {
    provide: RetryView,
    useFactory: (store: DatasetStore, queues: ClusterQueues) => new RetryView(store, queues),
    inject: [DatasetStore, ClusterQueues],
  },
];
