import { BdvError } from '@bdv-cluster/bdv';
import { StackError } from '@bdv-cluster/stacks';
import type { StorageErrorCode } from '@bdv-cluster/storage';

/** Why a view task failed, as it crosses back from its thread; `permanent`: retrying cannot help. */
export class ViewTaskError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ViewTaskError';
  }
}

const PERMANENT_STORAGE_CODES: StorageErrorCode[] = ['NOT_FOUND', 'BAD_URI', 'FORBIDDEN_PATH'];

/** A failure that retrying cannot fix (bad input): a view fails at once with this reason. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof ViewTaskError) return error.permanent;
  if (error instanceof StackError) return true;
  // By name, not instanceof: importing libs/storage here would load the AWS SDK into every
  // thread of a purely local conversion.
  if (error instanceof Error && error.name === 'StorageError')
    return PERMANENT_STORAGE_CODES.includes((error as Error & { code: StorageErrorCode }).code);
  if (error instanceof BdvError) return error.code !== 'HDF5';
  return false;
}
