#!/usr/bin/env node
import {
  ClusterQueues,
  ConfigError,
  DatasetStore,
  FINALIZE_QUEUE,
  loadConfig,
  WRITE_QUEUE,
  type WriteViewJob,
} from '@bdv-cluster/pipeline';
import { Worker } from 'bullmq';
import { writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { finalizeProcessor } from './finalizer/finalize-processor.js';
import { createLogger } from './logger.js';
import { WriteThreadPool } from './writer/run-write-thread.js';
import { writeViewProcessor } from './writer/write-view-processor.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, ['OUTPUT_DIR']);
  const log = createLogger(config.LOG_LEVEL, config.WORKER_ROLE);
  // BullMQ workers need maxRetriesPerRequest null (blocking commands); state calls share it.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const connection = redis;
  const store = new DatasetStore(redis, config.QUEUE_PREFIX);
  const queues = new ClusterQueues(connection, config.QUEUE_PREFIX);
  const threads = new WriteThreadPool();
  const workers: Worker[] = [];

  if (config.WORKER_ROLE !== 'finalizer') {
    workers.push(
      new Worker(WRITE_QUEUE, writeViewProcessor({ config, store, queues, threads, log }), {
        connection,
        prefix: config.QUEUE_PREFIX,
        concurrency: config.WRITER_CONCURRENCY,
        lockDuration: 60_000,
        stalledInterval: 30_000,
        maxStalledCount: 2,
      }),
    );
  }
  if (config.WORKER_ROLE !== 'writer') {
    workers.push(
      new Worker(FINALIZE_QUEUE, finalizeProcessor({ config, store, log }), {
        connection,
        prefix: config.QUEUE_PREFIX,
        concurrency: 2,
        lockDuration: 120_000,
      }),
    );
  }
  for (const w of workers) {
    w.on('failed', (job, error) => {
      log.warn({ jobId: job?.id, queue: w.name, reason: error.message }, 'job failed');
      // A write job that BullMQ gave up on outside our processor (stalled too often: its writer was
      // killed again and again) must still settle its view, or the dataset would never finalize.
      if (w.name === WRITE_QUEUE && job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        void settleAbandonedView(store, queues, job.data as WriteViewJob, error.message).catch((e: Error) =>
          log.error({ jobId: job.id, reason: e.message }, 'could not settle an abandoned view'),
        );
      }
    });
    w.on('error', (error) => log.error({ queue: w.name, reason: error.message }, 'worker error'));
  }
  log.info({ concurrency: config.WRITER_CONCURRENCY, outputDir: config.OUTPUT_DIR }, 'worker started');
  // Liveness for container health checks: touched from the event loop, so a wedged loop shows.
  const heartbeat = process.env.BDV_HEARTBEAT_FILE;
  const beat = () => heartbeat && writeFile(heartbeat, `${Date.now()}\n`).catch(() => undefined);
  void beat();
  const beating = setInterval(() => void beat(), 10_000);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // close() waits for the jobs in hand: a view being written is finished and marked, never left
    // half written and marked done; nothing new is taken meanwhile.
    log.info({ signal }, 'shutting down: finishing current jobs');
    clearInterval(beating);
    await Promise.all(workers.map((w) => w.close()));
    await threads.close();
    await queues.close();
    redis.disconnect();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Marks a view failed unless it already settled (failView is a no-op then), maybe finalizing. */
async function settleAbandonedView(
  store: DatasetStore,
  queues: ClusterQueues,
  job: WriteViewJob,
  reason: string,
): Promise<void> {
  const generation = await store.failView(job.datasetId, job.viewKey, reason);
  if (generation !== undefined) await queues.enqueueFinalize(job.datasetId, generation);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bdv-worker: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`,
  );
  process.exit(1);
});
