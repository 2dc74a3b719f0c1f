/**
 * Why a BDV operation was refused. `field` names the offending input (an option name, a view
 * index, a file path) so callers — the CLI, the HTTP API — can report it without parsing text.
 */
export type BdvErrorCode =
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_RANGE'
  | 'FILE_EXISTS'
  | 'FILE_LOCKED'
  | 'OUTPUT_UNAVAILABLE'
  | 'DUPLICATE_VIEW'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED'
  | 'STATE'
  | 'HDF5';

export class BdvError extends Error {
  constructor(
    readonly code: BdvErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'BdvError';
  }
}

export function invalid(field: string, message: string): BdvError {
  return new BdvError('INVALID_ARGUMENT', `${field}: ${message}`, field);
}
