import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldProblem } from '@bdv-cluster/contract';

/** The statuses the API refuses a request with: each names the field at fault in `details`. */
export type RefusalStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 422;

/** Every error answer's body (docs/error-body.ts is its OpenAPI schema). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** Every field at fault: on every 4xx, never on a 5xx (nothing of the request is at fault). */
  details?: FieldProblem[];
}

/**
 * Where a refusal is at fault: its field problems, or one field whose problem is the message
 * (`field: ` at its start left out, as the other details say it).
 */
export type FaultAt = string | readonly FieldProblem[];

export function errorBody(status: number, message: string, at?: FaultAt): ErrorBody {
  return {
    statusCode: status,
    error: HttpStatus[status] ?? 'Error',
    message,
    ...(at === undefined ? {} : { details: detailsOf(message, at) }),
  };
}

function detailsOf(message: string, at: FaultAt): FieldProblem[] {
  if (typeof at !== 'string') return at.map(({ field, message }) => ({ field, message }));
  const own = message.startsWith(`${at}: `) ? message.slice(at.length + 2) : message;
  return [{ field: at, message: own }];
}

/** Every error leaves as `{statusCode, error, message, details?}`, a refusal naming the field or file. */
export class ApiError extends HttpException {
  private constructor(status: number, message: string, at?: FaultAt) {
    super(errorBody(status, message, at), status);
  }

  /** A refusal of the request (4xx): `at` names what is at fault. */
  static refuse(status: RefusalStatus, message: string, at: FaultAt) {
    return new ApiError(status, message, at);
  }
  static badRequest(message: string, at: FaultAt) {
    return new ApiError(HttpStatus.BAD_REQUEST, message, at);
  }
  static notFound(message: string, at: FaultAt) {
    return new ApiError(HttpStatus.NOT_FOUND, message, at);
  }
  static conflict(message: string, at: FaultAt) {
    return new ApiError(HttpStatus.CONFLICT, message, at);
  }
  /** Ours, not the request's (try again): no field is at fault. */
  static unavailable(message: string) {
    return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, message);
  }
}
