import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { toHttpError } from './domain-errors.js';

/** Shapes every error (ours, Nest's, body-parser's) as {statusCode, error, message, details?}. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('http');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const exception = toHttpError(thrown);
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? exception.message);
      res.status(status).json({
        statusCode: status,
        error: HttpStatus[status] ?? 'Error',
        message: Array.isArray(message) ? message.join('; ') : String(message),
        ...(typeof body === 'object' && body && 'details' in body
          ? { details: (body as { details: unknown }).details }
          : {}),
      });
      return;
    }
    const e = exception as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.parse.failed') {
      res
        .status(400)
        .json({ statusCode: 400, error: 'BAD_REQUEST', message: `malformed JSON body: ${e.message}` });
      return;
    }
    if (e.type === 'entity.too.large') {
      res.status(413).json({
        statusCode: 413,
        error: 'PAYLOAD_TOO_LARGE',
        message: 'JSON body too large (stack data goes to PUT .../data)',
      });
      return;
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      // body-parser's other refusals (unsupported charset or encoding, aborted request...)
      res.status(e.status).json({
        statusCode: e.status,
        error: HttpStatus[e.status] ?? 'Error',
        message: `request body: ${e.message ?? 'refused'}`,
      });
      return;
    }
    this.log.error((exception as Error).stack ?? String(exception));
    res
      .status(500)
      .json({ statusCode: 500, error: 'INTERNAL_SERVER_ERROR', message: 'internal error (see the API log)' });
  }
}
