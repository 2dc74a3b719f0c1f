/** Why a source or destination cannot be used; `field`/`uri` name what is at fault. */
export type StorageErrorCode =
  'BAD_URI' | 'FORBIDDEN_PATH' | 'NOT_FOUND' | 'CHANGED' | 'TRANSIENT' | 'FAILED' | 'CONFLICT' | 'DENIED';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly uri: string,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}
