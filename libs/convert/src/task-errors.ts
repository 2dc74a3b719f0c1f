import { BdvError } from '@bdv-cluster/bdv';
import { StackError } from '@bdv-cluster/stacks';
import type { StorageErrorCode } from '@bdv-cluster/storage';

/**
 * How a failed view task should be handled:
 * - `permanent`: bad input; retrying cannot help — the view fails at once with the reason;
 * - `busy`: another process is writing the file — try again shortly, it costs no attempt;
 * - `outage`: the source store or the output volume is unreachable, full or read-only — wait
 *   (with backoff, for as long as an outage budget allows) rather than fail;
 * - `transient`: anything else (an HDF5 hiccup, a crashed thread) — retried a few times;
 * - `cancelled`: the caller stopped the task (its dataset was cancelled); nothing was kept.
 */
export type FailureKind = 'permanent' | 'busy' | 'outage' | 'transient' | 'cancelled';

/** Why a view task failed, as it crosses back from its thread. */
export class ViewTaskError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
  ) {
    super(message);
    this.name = 'ViewTaskError';
  }

  get permanent(): boolean {
    return this.kind === 'permanent';
  }
}

const PERMANENT_STORAGE_CODES: StorageErrorCode[] = ['NOT_FOUND', 'CHANGED', 'BAD_URI', 'FORBIDDEN_PATH'];

export function failureKindOf(error: unknown): FailureKind {
  if (error instanceof ViewTaskError) return error.kind;
  if (error instanceof StackError) return 'permanent';
  // By name, not instanceof: importing libs/storage here would load the AWS SDK into every
  // thread of a purely local conversion.
  if (error instanceof Error && error.name === 'StorageError') {
    const code = (error as Error & { code: StorageErrorCode }).code;
    return PERMANENT_STORAGE_CODES.includes(code) ? 'permanent' : 'outage';
  }
  if (error instanceof BdvError) {
    if (error.code === 'FILE_LOCKED') return 'busy';
    if (error.code === 'OUTPUT_UNAVAILABLE') return 'outage';
    return error.code === 'HDF5' || error.code === 'STATE' ? 'transient' : 'permanent';
  }
  return 'transient';
}

/** A failure that retrying cannot fix (bad input): a view fails at once with this reason. */
export function isPermanent(error: unknown): boolean {
  return failureKindOf(error) === 'permanent';
}
