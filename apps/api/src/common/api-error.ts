import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldProblem } from '@bdv-cluster/contract';

/** Every error leaves as `{statusCode, error, message, details?}`, naming the field or file. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, message: string, details?: FieldProblem[]) {
    super(
      { statusCode: status, error: HttpStatus[status], message, ...(details ? { details } : {}) },
      status,
    );
  }

  static badRequest(message: string, details?: FieldProblem[]) {
    return new ApiError(HttpStatus.BAD_REQUEST, message, details);
  }
  static notFound(message: string) {
    return new ApiError(HttpStatus.NOT_FOUND, message);
  }
  static conflict(message: string) {
    return new ApiError(HttpStatus.CONFLICT, message);
  }
  static unavailable(message: string) {
    return new ApiError(HttpStatus.SERVICE_UNAVAILABLE, message);
  }
}
