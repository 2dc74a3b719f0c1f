import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { errorBody, type ErrorBody } from './api-error.js';

/** `PUT /v1/datasets/:id/views/:viewKey/data`: the one route whose body is not JSON. */
const UPLOAD_ROUTE = /^\/v1\/datasets\/[^/]+\/views\/[^/]+\/data$/;

export function isUploadRoute(req: Request): boolean {
  return req.method === 'PUT' && UPLOAD_ROUTE.test(req.path);
}

/** `application/json; charset=utf-8` → `application/json`; '' when absent. */
export function mediaTypeOf(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase().slice(0, 100);
}

/** A body follows (chunked, or a non-zero Content-Length). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * JSON bodies only (no form or text parsing anywhere), parsed up to `limit`: a body of any other
 * type gets 415 before it is read, so a cross-site HTML form cannot post to the API. The upload
 * route's body is left to its handler (a stream, application/octet-stream only).
 */
export function jsonBodiesOnly(limit: string): RequestHandler {
  const parseJson = express.json({ limit, type: 'application/json' });
  return (req: Request, res: Response, next: NextFunction) => {
    if (isUploadRoute(req)) return next();
    if (!hasBody(req) || mediaTypeOf(req) === 'application/json')
      return parseJson(req, res, (error?: unknown) => {
        const refusal = error === undefined ? undefined : bodyParserRefusal(error);
        if (refusal) res.status(refusal.statusCode).json(refusal);
        else next(error);
      });
    const message = `Content-Type ${mediaTypeOf(req) || '(none)'} is not accepted: request bodies are JSON (application/json); stack bytes go to PUT .../views/:viewKey/data as application/octet-stream`;
    res.status(415).json(errorBody(415, message, 'Content-Type'));
  };
}

/** body-parser's refusals that concern a header rather than the body itself. */
const HEADER_FIELDS: Record<string, string> = {
  'charset.unsupported': 'Content-Type',
  'encoding.unsupported': 'Content-Encoding',
};

/**
 * A JSON body body-parser refused (malformed, over the limit, an unknown charset or encoding…)
 * as the API's error body, naming the body or the header at fault; undefined for anything else.
 */
export function bodyParserRefusal(error: unknown): ErrorBody | undefined {
  const e = error as { type?: unknown; status?: unknown; message?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500) return undefined;
  const said = String(e.message ?? 'refused');
  if (e.type === 'entity.parse.failed') return errorBody(400, `body: malformed JSON (${said})`, 'body');
  if (e.type === 'entity.too.large')
    return errorBody(e.status, 'body: JSON body too large (stack data goes to PUT .../data)', 'body');
  const field = HEADER_FIELDS[String(e.type)] ?? 'body';
  return errorBody(e.status, `${field}: ${said}`, field);
}
