import { failureKindOf, ViewTaskError } from '@bdv-cluster/convert';
import { FINALIZE_WAITING_KEY, type FinalizeJob } from '@bdv-cluster/pipeline';
import type { Job } from 'bullmq';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { waitOutOutage, type OutageDeps, type OutageJob, type OutageTrack } from '../outage/outage-wait.js';

/** A finalize job's data: its generation, an outage it waits out, whether it published already. */
export type FinalizeJobData = FinalizeJob &
  OutageTrack & {
    /** This generation's files were verified and published: a later attempt only exports. */
    published?: boolean;
  };

export type FinalizeOutageJob = Pick<Job<FinalizeJobData>, 'data' | 'moveToDelayed' | 'updateData'>;

export type { OutageDeps };

const OUTPUT_GONE: Record<string, string> = { ENOSPC: 'full', EDQUOT: 'over its quota', EROFS: 'read-only' };

/**
 * The outage `error` is, if it is one: what the writers wait out (failureKindOf: the object store
 * not answering, the output volume full or read-only under HDF5, the volume not mounted), and the
 * same volume errors met by the finalize's own plain writes (the XML, the checksum file), named
 * as the writers name them.
 */
export function outageOf(error: unknown): Error | undefined {
  const { code, path } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && OUTPUT_GONE[code])
    return new ViewTaskError(
      `output volume ${OUTPUT_GONE[code]}${path ? ` (${dirname(path)})` : ''}: ${(error as Error).message}`,
      'outage',
    );
  return failureKindOf(error) === 'outage' ? (error as Error) : undefined;
}

/**
 * A finalize that meets an outage waits as a view does (the writers' waitOutOutage): back to the
 * delayed set with backoff, no attempt spent, listed under the dataset's `waiting` as `finalize`,
 * for up to the outage budget. Throws DelayedError while it waits; returns once the budget is
 * spent (`error`'s message then says for how long), and the finalize fails.
 */
export async function waitOutFinalizeOutage(
  deps: OutageDeps,
  job: FinalizeOutageJob,
  token: string | undefined,
  error: Error,
  log: Logger,
): Promise<void> {
  const outageJob: OutageJob = {
    data: {
      datasetId: job.data.datasetId,
      viewKey: FINALIZE_WAITING_KEY,
      outageSince: job.data.outageSince,
      outageRetries: job.data.outageRetries,
    },
    moveToDelayed: (timestamp, t) => job.moveToDelayed(timestamp, t),
    updateData: ({ outageSince, outageRetries }) =>
      job.updateData({ ...job.data, outageSince, outageRetries }),
  };
  await waitOutOutage(deps, outageJob, token, error, log);
}
