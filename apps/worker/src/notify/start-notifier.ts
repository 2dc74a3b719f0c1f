import { NOTIFY_QUEUE, type ClusterConfig, type DatasetStore } from '@bdv-cluster/pipeline';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { notifyProcessor } from './notify-processor.js';

/**
 * The notification worker (third queue), run by the finalizer role beside the finalize worker:
 * deliveries wait on receivers, never on finalizes, and retries back off on their own queue.
 */
export function startNotifier(
  config: ClusterConfig,
  connection: Redis,
  store: DatasetStore,
  log: Logger,
): Worker {
  const notifier = new Worker(
    NOTIFY_QUEUE,
    notifyProcessor({
      store,
      allowList: config.NOTIFY_ALLOWED_HOSTS,
      log: log.child({ queue: NOTIFY_QUEUE }),
    }),
    { connection, prefix: config.QUEUE_PREFIX, concurrency: 4 },
  );
  notifier.on('failed', (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
      log.warn({ jobId: job.id, reason: error.message }, 'notification given up');
  });
  return notifier;
}
