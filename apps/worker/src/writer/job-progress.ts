import type { TaskProgress } from '@bdv-cluster/convert';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';

/** A failed progress update is logged at most this often (a view reports one per slab). */
const LOG_EVERY_MS = 10_000;

/** What BullMQ says when the job's hash is no longer in Redis. */
const JOB_GONE = /^Missing key for job /;

/**
 * The progress callback of a view's task: records the share written on its job, and never throws
 * or leaves a rejection behind. BullMQ rejects the update of a job no longer in Redis (the queue
 * emptied or obliterated from Bull Board, Redis restarted without its data); unhandled, that
 * ended the writer process and every view in it. A failed update is logged, at most once every
 * 10 s (with how many were not); a job found gone calls `onGone` (its view is stopped and undone).
 */
export function progressReporter(
  job: Pick<Job, 'updateProgress'>,
  log: Logger,
  onGone: () => void,
): (p: TaskProgress) => void {
  let loggedAt = -Infinity;
  let unlogged = 0;
  const failed = (error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    if (JOB_GONE.test(reason)) onGone();
    if (performance.now() - loggedAt < LOG_EVERY_MS) {
      unlogged++;
      return;
    }
    log.warn({ reason, ...(unlogged > 0 ? { notLogged: unlogged } : {}) }, 'progress not recorded');
    loggedAt = performance.now();
    unlogged = 0;
  };
  return (p) => {
    try {
      job.updateProgress(Math.round((100 * p.bytesDone) / Math.max(1, p.bytesTotal))).catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}
