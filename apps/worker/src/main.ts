#!/usr/bin/env node
import { ViewThreadPool } from '@bdv-cluster/convert';
import {
  AnnounceOutcome,
  ClusterQueues,
  ConfigError,
  DatasetLock,
  DatasetStore,
  FINALIZE_QUEUE,
  loadConfig,
  SettleView,
  WRITE_QUEUE,
  type ClusterConfig,
} from '@bdv-cluster/pipeline';
import { Worker } from 'bullmq';
import pLimit from 'p-limit';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { settleIfFinalizeAbandoned } from './finalizer/abandoned-finalize.js';
import { finalizeProcessor } from './finalizer/finalize-processor.js';
import { createLogger } from './logger.js';
import { startNotifier } from './notify/start-notifier.js';
import { settleIfAbandoned, settleIfStalledOut } from './writer/abandoned-jobs.js';
import { outputDirProblem, prepareOutputFolder } from './outage/output-folder.js';
import { redisClock } from './outage/redis-clock.js';
import { viewShapeOf, viewTaskOf } from './writer/view-task-of.js';
import { writeViewProcessor } from './writer/write-view-processor.js';
import { startHeartbeat, stopGracefully } from './process-lifecycle.js';

/** Wires the writer and/or finalizer queue workers of this process (WORKER_ROLE). */
async function main(): Promise<void> {
  const config = loadConfig(process.env, ['OUTPUT_DIR']);
  const log = createLogger(config.LOG_LEVEL, config.WORKER_ROLE);
  // A writer never creates its output folder: one made on the node's own disk (the volume not
  // mounted) would take views that the finalizer never sees.
  const unmounted = config.WORKER_ROLE !== 'finalizer' && outputDirProblem(config.OUTPUT_DIR);
  if (unmounted) throw new ConfigError([`OUTPUT_DIR: ${unmounted}`]);
  // BullMQ workers need maxRetriesPerRequest null (blocking commands); state calls share it.
  const connection = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const store = new DatasetStore(connection, config.QUEUE_PREFIX);
  const queues = new ClusterQueues(connection, config.QUEUE_PREFIX);
  const threads = new ViewThreadPool();
  // Threads that load HDF5 now, while the queues connect, not when the first view or finalize of
  // this process arrives: a long-running worker's first dataset then runs as its later ones do.
  const warmThreads = threadsOfRole(config);
  threads.warm(warmThreads);
  const workers: Worker[] = [];
  if (config.WORKER_ROLE !== 'finalizer')
    workers.push(startWriter(config, connection, store, queues, threads, log));
  if (config.WORKER_ROLE !== 'writer')
    workers.push(startFinalizer(config, connection, store, queues, threads, log));
  if (config.WORKER_ROLE !== 'writer') workers.push(startNotifier(config, connection, store, log));
  for (const w of workers)
    w.on('error', (error) => log.error({ queue: w.name, reason: error.message }, 'worker error'));
  log.info(
    { concurrency: config.WRITER_CONCURRENCY, threads: warmThreads, outputDir: config.OUTPUT_DIR },
    'worker started',
  );
  const heartbeat = startHeartbeat(process.env.BDV_HEARTBEAT_FILE);
  // close() waits for the jobs in hand: a view being written is finished and marked, never left
  // half written and marked done; nothing new is taken meanwhile.
  stopGracefully(log, async () => {
    heartbeat.stop();
    await Promise.all(workers.map((w) => w.close()));
    await threads.close();
    await queues.close();
    connection.disconnect();
  });
}

/** The threads this process's queue workers use at most at once: writes, and a finalize's reads. */
function threadsOfRole(config: ClusterConfig): number {
  const writing = config.WORKER_ROLE === 'finalizer' ? 0 : config.WRITER_CONCURRENCY;
  const verifying = config.WORKER_ROLE === 'writer' ? 0 : config.FINALIZER_VERIFY_THREADS;
  return writing + verifying;
}

function startWriter(
  config: ClusterConfig,
  connection: Redis,
  store: DatasetStore,
  queues: ClusterQueues,
  threads: ViewThreadPool,
  log: Logger,
): Worker {
  const settle = new SettleView(store, queues);
  const processor = writeViewProcessor({
    store,
    settle,
    // Scheduling only (the file's own fence keeps writes safe): short, so a dead writer's dataset
    // is free again well before its job's lease runs out.
    tryLock: (datasetId) =>
      DatasetLock.tryAcquire(
        connection,
        store.keys.lock(datasetId),
        Math.min(10, config.WRITER_LOCK_SECONDS) * 1000,
      ),
    taskOf: (dataset, view) => {
      const task = viewTaskOf(config, dataset, view);
      prepareOutputFolder(config.OUTPUT_DIR, task.h5Path);
      return task;
    },
    shapeOf: (view) => viewShapeOf(config, view),
    runTask: (task, onProgress, signal) => threads.run(task, onProgress, signal),
    outageBudgetMs: config.OUTAGE_BUDGET_SECONDS * 1000,
    now: redisClock(connection),
    log,
  });
  const writer = new Worker(WRITE_QUEUE, processor, {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WRITER_CONCURRENCY,
    lockDuration: config.WRITER_LOCK_SECONDS * 1000,
    stalledInterval: Math.ceil((config.WRITER_LOCK_SECONDS * 1000) / 3),
    maxStalledCount: 2,
  });
  // A job whose lock could not be renewed is no longer ours (taken over after a pause, or gone
  // from Redis): its view stops at its next slab and is undone (the processor's third argument).
  writer.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) writer.cancelJob(jobId, 'lock lost');
  });
  writer.on('failed', (job) => void settleIfAbandoned(settle, job, log));
  writer.on('stalled', (jobId) => void settleIfStalledOut(settle, () => queues.write.getJob(jobId), log));
  return writer;
}

function startFinalizer(
  config: ClusterConfig,
  connection: Redis,
  store: DatasetStore,
  queues: ClusterQueues,
  threads: ViewThreadPool,
  log: Logger,
): Worker {
  // A finalize is idempotent (it rewrites whole files under temporary names), so a finalizer that
  // dies mid-way may simply be retried a few times before the generation is given up.
  const announce = new AnnounceOutcome(store, queues);
  const verifyThreads = pLimit(config.FINALIZER_VERIFY_THREADS);
  const finalizer = new Worker(
    FINALIZE_QUEUE,
    finalizeProcessor({
      config,
      store,
      announce,
      // One budget for the process: finalize jobs run two at a time and share these threads.
      checkFiles: {
        check: (file) => verifyThreads(() => threads.check(file)),
        concurrency: config.FINALIZER_VERIFY_THREADS,
      },
      log,
    }),
    {
      connection,
      prefix: config.QUEUE_PREFIX,
      concurrency: 2,
      lockDuration: config.FINALIZER_LOCK_SECONDS * 1000,
      stalledInterval: Math.ceil((config.FINALIZER_LOCK_SECONDS * 1000) / 4),
      maxStalledCount: 3,
    },
  );
  finalizer.on('failed', (job) => void settleIfFinalizeAbandoned(store, job, log, announce));
  finalizer.on(
    'stalled',
    (jobId) =>
      void queues.finalize.getJob(jobId).then((job) => settleIfFinalizeAbandoned(store, job, log, announce)),
  );
  return finalizer;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bdv-worker: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`,
  );
  process.exit(1);
});
