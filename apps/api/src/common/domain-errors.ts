import { HttpStatus } from '@nestjs/common';
import { PipelineError, type PipelineErrorKind } from '@bdv-cluster/pipeline';
import { StorageError, type StorageErrorCode } from '@bdv-cluster/storage';
import { ApiError, type RefusalStatus } from './api-error.js';
import { isStateStoreUnavailable } from './state-store.js';

const PIPELINE_STATUS: Record<PipelineErrorKind, HttpStatus> = {
  NOT_FOUND: HttpStatus.NOT_FOUND,
  CONFLICT: HttpStatus.CONFLICT,
  UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  INVALID: HttpStatus.BAD_REQUEST,
};

/** A missing object or a forbidden path is the client's to fix; a failing store is ours (503). */
const STORAGE_STATUS: Record<StorageErrorCode, HttpStatus> = {
  BAD_URI: HttpStatus.BAD_REQUEST,
  FORBIDDEN_PATH: HttpStatus.BAD_REQUEST,
  NOT_FOUND: HttpStatus.BAD_REQUEST,
  // Written again while its header was read: asking again reads the new one.
  CHANGED: HttpStatus.CONFLICT,
  TRANSIENT: HttpStatus.SERVICE_UNAVAILABLE,
  FAILED: HttpStatus.SERVICE_UNAVAILABLE,
  CONFLICT: HttpStatus.CONFLICT,
  DENIED: HttpStatus.SERVICE_UNAVAILABLE,
};

/**
 * The libraries' refusals as HTTP errors; `field` prefixes the message (e.g. `source.uri`), so
 * the answer names what is at fault, and names it in `details` where the library did not say.
 * Anything else is returned unchanged.
 */
export function toHttpError(error: unknown, field?: string): unknown {
  if (error instanceof PipelineError)
    return httpError(PIPELINE_STATUS[error.kind], error.message, error.field ?? field ?? UNNAMED);
  if (isStateStoreUnavailable(error))
    return ApiError.unavailable('state store unavailable (Redis does not answer): try again shortly');
  if (error instanceof StorageError) {
    const message = field ? `${field}: ${error.message}` : error.message;
    // a source or a batch's folder: what storage is asked about
    return httpError(STORAGE_STATUS[error.code], message, field ?? 'source');
  }
  return error;
}

/** What a refusal names when its library did not say which field: the request as a whole. */
const UNNAMED = '(request)';

/** 503 is ours (nothing of the request at fault); any other status refuses what `field` names. */
function httpError(status: HttpStatus, message: string, field: string): ApiError {
  if (status === HttpStatus.SERVICE_UNAVAILABLE) return ApiError.unavailable(message);
  return ApiError.refuse(status as RefusalStatus, message, field);
}

/** Runs `call`, answering its domain errors as HTTP errors naming `field`. */
export async function asHttp<T>(call: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toHttpError(error, field);
  }
}
