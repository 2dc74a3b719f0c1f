/**
 * A use case refused: `kind` says how a caller should answer (the API maps it to 404, 409, 503,
 * 400), the message names the field, dataset or view at fault.
 */
export type PipelineErrorKind = 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'INVALID';

export class PipelineError extends Error {
  constructor(
    readonly kind: PipelineErrorKind,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PipelineError';
  }
}
