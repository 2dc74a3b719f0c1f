import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, errorBody } from './api-error.js';
import { toHttpError } from './domain-errors.js';

/**
 * Shapes every error (ours, Nest's) as {statusCode, error, message, details?}: every 4xx names
 * what is at fault in `details` (body-parser's refusals are answered where bodies are parsed,
 * body-types.ts).
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.answer(toHttpError(thrown));
    // JSON whatever the route answers otherwise (`GET …/xml` sets application/xml up front)
    res.status(status).type('json').json(body);
  }

  private answer(exception: unknown): { status: number; body: object } {
    if (exception instanceof ApiError)
      return { status: exception.getStatus(), body: exception.getResponse() as object };
    if (exception instanceof HttpException)
      return { status: exception.getStatus(), body: foreignBody(exception) };
    this.log.error((exception as Error).stack ?? String(exception));
    return { status: 500, body: errorBody(500, 'internal error (see the API log)') };
  }
}

/**
 * Nest's own exceptions: a path no route serves (404) or with a malformed %-escape (400), both
 * naming `path`; a health check's 503 (its report of each probe kept under `details`, as the
 * health routes document).
 */
function foreignBody(exception: HttpException) {
  const status = exception.getStatus();
  const body = exception.getResponse();
  const said =
    typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
  const message = Array.isArray(said) ? said.join('; ') : String(said);
  if (status < 500) return errorBody(status, message, 'path');
  const report = typeof body === 'object' && body && 'details' in body ? body.details : undefined;
  return { ...errorBody(status, message), ...(report ? { details: report } : {}) };
}
