import type { DatasetStore, WriteViewJob } from '@bdv-cluster/pipeline';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';

/** What waiting out an outage needs: where to say why the job waits, the budget, the clock. */
export interface OutageDeps {
  store: Pick<DatasetStore, 'noteWaiting'>;
  outageBudgetMs: number;
  /** The cluster's clock (Redis's `TIME`, redis-clock.ts), ms. */
  now: () => Promise<number>;
}

/** Kept in the job's data while its view waits out an outage. */
export interface OutageTrack {
  /** When the outage was first met, on the cluster's clock (`OutageDeps.now`: Redis's). */
  outageSince?: number;
  outageRetries?: number;
}

export type OutageJob = Pick<Job<WriteViewJob & OutageTrack>, 'data' | 'moveToDelayed' | 'updateData'>;

/**
 * The source store is unreachable or the output volume full / read-only: that is not the job's
 * (a view's, or a finalize's) fault, so it waits — backing off to a minute between tries, spending no attempt — for as long
 * as the outage budget allows, noted as `waiting` on its dataset meanwhile. Returns only when
 * the budget is spent: then the view fails. Whichever writer tries next measures the wait on the
 * same clock as the one that met the outage first (Redis's), whatever its own clock says.
 */
export async function waitOutOutage(
  deps: OutageDeps,
  job: OutageJob,
  token: string | undefined,
  error: Error,
  log: Logger,
): Promise<void> {
  const { datasetId, viewKey } = job.data;
  const now = await deps.now();
  const since = job.data.outageSince ?? now;
  const retries = job.data.outageRetries ?? 0;
  if (now - since > deps.outageBudgetMs) {
    error.message = `${error.message} (still failing after ${Math.round((now - since) / 60_000)} min of retries)`;
    return;
  }
  await job.updateData({ ...job.data, outageSince: since, outageRetries: retries + 1 });
  await deps.store.noteWaiting(datasetId, viewKey, `waiting: ${error.message}`);
  const backoffMs = Math.min(60_000, 1000 * 2 ** retries) * (0.75 + Math.random() / 2);
  log.warn({ reason: error.message, retryInS: Math.round(backoffMs / 1000) }, 'outage: waiting');
  // BullMQ subtracts this process's Date.now() again: a delay, whatever this clock's offset.
  await job.moveToDelayed(Date.now() + backoffMs, token);
  throw new DelayedError();
}
