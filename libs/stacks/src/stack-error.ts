/** Why an input stack cannot be read; `file` names it, the message says what was expected. */
export type StackErrorCode =
  | 'NOT_FOUND'
  | 'BAD_HEADER'
  | 'UNSUPPORTED_DTYPE'
  | 'SHAPE_MISMATCH'
  | 'TRUNCATED'
  | 'CHANGED'
  | 'UNSUPPORTED';

export class StackError extends Error {
  constructor(
    readonly code: StackErrorCode,
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}
