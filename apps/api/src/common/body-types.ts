import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

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
    if (!hasBody(req) || mediaTypeOf(req) === 'application/json') return parseJson(req, res, next);
    res.status(415).json({
      statusCode: 415,
      error: 'UNSUPPORTED_MEDIA_TYPE',
      message: `Content-Type ${mediaTypeOf(req) || '(none)'} is not accepted: request bodies are JSON (application/json); stack bytes go to PUT .../views/:viewKey/data as application/octet-stream`,
    });
  };
}
