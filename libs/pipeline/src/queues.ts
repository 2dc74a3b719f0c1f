import { z } from 'zod';

export const WRITE_QUEUE = 'bdv-write-view';
export const FINALIZE_QUEUE = 'bdv-finalize';

/** Jobs carry ids only: the specs live in Redis state, the single source of truth. */
export const WriteViewJob = z.object({ datasetId: z.string(), viewKey: z.string() });
export type WriteViewJob = z.infer<typeof WriteViewJob>;

export const FinalizeJob = z.object({ datasetId: z.string(), generation: z.number().int() });
export type FinalizeJob = z.infer<typeof FinalizeJob>;

/**
 * Deterministic ids: a repeated submission can never queue a view (or a finalize) twice.
 * `<datasetId>.<viewKey>` — the design's `<datasetId>:<viewKey>` with a dot, because BullMQ 6
 * refuses ':' in custom ids (it is its Redis key separator).
 */
export const writeJobId = (datasetId: string, viewKey: string) => `${datasetId}.${viewKey}`;
export const finalizeJobId = (datasetId: string, generation: number) => `finalize.${datasetId}.${generation}`;

export const WRITE_ATTEMPTS = 5;
