import { z } from 'zod';

export const WRITE_QUEUE = 'bdv-write-view';
export const FINALIZE_QUEUE = 'bdv-finalize';
/** Dataset notifications: their own queue, so a slow or dead receiver never holds up a finalize. */
export const NOTIFY_QUEUE = 'bdv-notify';

/** Jobs carry ids only: the specs live in Redis state, the single source of truth. */
export const WriteViewJob = z.object({ datasetId: z.string(), viewKey: z.string() });
export type WriteViewJob = z.infer<typeof WriteViewJob>;

export const FinalizeJob = z.object({ datasetId: z.string(), generation: z.number().int() });
export type FinalizeJob = z.infer<typeof FinalizeJob>;

/**
 * One notification: the dataset's status JSON as it was when the dataset became complete or
 * failed (`body`, sent as is) and where to. The secret is not in the job (Bull Board shows job
 * data): the notifier reads it from Redis when it signs.
 */
export const NotifyJob = z.object({
  datasetId: z.string(),
  generation: z.number().int(),
  status: z.enum(['complete', 'failed']),
  url: z.string(),
  body: z.string(),
});
export type NotifyJob = z.infer<typeof NotifyJob>;

/**
 * Deterministic ids: a repeated submission can never queue a view (or a finalize) twice.
 * `<datasetId>.<viewKey>` — the design's `<datasetId>:<viewKey>` with a dot, because BullMQ 6
 * refuses ':' in custom ids (it is its Redis key separator).
 */
export const writeJobId = (datasetId: string, viewKey: string) => `${datasetId}.${viewKey}`;
export const finalizeJobId = (datasetId: string, generation: number) => `finalize.${datasetId}.${generation}`;
/** One notification per outcome of a finalize generation. */
export const notifyJobId = (datasetId: string, generation: number, status: string) =>
  `notify.${datasetId}.${generation}.${status}`;

export const WRITE_ATTEMPTS = 5;

/** A receiver that keeps failing is retried with exponential backoff: 5 s, 10 s, ... ~42 min in all. */
export const NOTIFY_ATTEMPTS = 10;
