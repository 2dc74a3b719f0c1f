import type { VerifyOptions } from '@bdv-cluster/bdv';
import type { DatasetStore, FinalizeJob, FinalizeStanding } from '@bdv-cluster/pipeline';
import type { Job } from 'bullmq';

/** Why a finalize stopped: its dataset moved on under it, or another finalizer holds its job. */
export type StopReason = Exclude<FinalizeStanding, 'current'> | 'job lost';

/** Thrown before a step the finalize must not take any more; the processor ends the job quietly. */
export class FinalizeStopped extends Error {
  constructor(
    readonly reason: StopReason,
    step: string,
  ) {
    super(`finalize stopped before ${step}: ${reason}`);
    this.name = 'FinalizeStopped';
  }
}

/** Checks, before `step`, that the finalize may still take it; throws FinalizeStopped if not. */
export type FinalizeGuard = (step: string) => Promise<void>;

/**
 * Before each step a finalize cannot take back — each upload to the output bucket, the XML last —
 * re-reads where its generation stands (status and generation in one read: `cancelling` after a
 * DELETE, gone after Redis lost its data, superseded) and whether BullMQ still counts this
 * finalizer as the job's owner (renewing its lock, as a writer does before it commits). Between a
 * check and its step the dataset may still move: the `complete` transition, taken only for the
 * current generation, decides last.
 */
export function finalizeGuard(
  store: Pick<DatasetStore, 'finalizeStanding'>,
  job: Pick<Job<FinalizeJob>, 'data' | 'extendLock'>,
  token: string | undefined,
  lockMs: number,
): FinalizeGuard {
  return async (step) => {
    const standing = await store.finalizeStanding(job.data.datasetId, job.data.generation);
    if (standing !== 'current') throw new FinalizeStopped(standing, step);
    if (token && Number(await job.extendLock(token, lockMs)) !== 1)
      throw new FinalizeStopped('job lost', step);
  };
}

type FileChecks = NonNullable<VerifyOptions['checkFiles']>;

/**
 * The read-back's file checks, the guard asked before one at most every `everyMs`: a finalize
 * cancelled or lost from Redis during a long read-back stops there, before it publishes anything.
 */
export function guardedChecks(checks: FileChecks, guard: FinalizeGuard, everyMs = 1000): FileChecks {
  let asked = 0;
  return {
    concurrency: checks.concurrency,
    check: async (file) => {
      if (Date.now() - asked >= everyMs) {
        asked = Date.now();
        await guard(`reading back ${file.name}`);
      }
      return checks.check(file);
    },
  };
}
