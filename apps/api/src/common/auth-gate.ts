import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';

/**
 * The only paths served without a token (exact, case-sensitive): probes, Prometheus and the
 * OpenAPI documents. Everything else — every route there is and every path that matches none —
 * needs a token, so a new route is protected before anyone thinks of it.
 */
const PUBLIC_PATHS = new Set(['/health', '/health/live', '/health/ready', '/metrics', '/docs', '/docs/']);
/** Swagger UI's files and the OpenAPI documents under /docs/ (one plain segment each). */
const PUBLIC_DOCS_FILE = /^\/docs\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Bull Board: Basic credentials (the token as password) are accepted there, for any method. */
export const QUEUE_BOARD_PATH = '/queues';

/**
 * The status page and the preview images it shows: Basic is accepted there for GET and HEAD
 * only — reads a browser makes, which change nothing, so credentials a browser caches and
 * sends cross-site can at most show another site an image it cannot read (no CORS).
 */
const BROWSER_READS = [
  /^\/$/,
  /^\/v1\/datasets\/[^/]+\/preview\.png$/,
  /^\/v1\/datasets\/[^/]+\/views\/[^/]+\/preview\.png$/,
];

export function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.has(path) || PUBLIC_DOCS_FILE.test(path);
}

function underQueueBoard(path: string): boolean {
  return path === QUEUE_BOARD_PATH || path.startsWith(`${QUEUE_BOARD_PATH}/`);
}

/** Where Basic credentials count: anything under /queues, and GET/HEAD of the status page and its images. */
export function acceptsBasic(method: string, path: string): boolean {
  if (underQueueBoard(path)) return true;
  return (method === 'GET' || method === 'HEAD') && BROWSER_READS.some((page) => page.test(path));
}

/** The token of `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return m?.[1];
}

/** The password of `Authorization: Basic base64(user:password)` (browsers on the queue board). */
export function basicPassword(header: string | undefined): string | undefined {
  const m = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Constant-time comparison against every configured token. */
export function tokenAllowed(token: string | undefined, allowed: readonly string[]): boolean {
  if (!token) return false;
  const given = Buffer.from(token);
  let ok = false;
  for (const t of allowed) {
    const want = Buffer.from(t);
    if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
  }
  return ok;
}

/**
 * Deny by default, before any routing: a request passes when its path is public, or it carries
 * one of API_TOKENS as a bearer token — or, under /queues and for GET/HEAD of the status page and
 * its preview images only, as the password of Basic credentials (a browser caches those and
 * sends them cross-site, so no route that changes anything or answers JSON honours them).
 * Paths are compared as sent: `/V1/...` is not `/v1/...` (routing is case-sensitive too).
 */
export function authGate(tokens: readonly string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isPublicPath(req.path)) return next();
    const header = req.headers.authorization;
    const basic = acceptsBasic(req.method, req.path);
    const token = bearerToken(header) ?? (basic ? basicPassword(header) : undefined);
    if (tokenAllowed(token, tokens)) return next();
    res.setHeader(
      'WWW-Authenticate',
      basic ? 'Basic realm="bdv-cluster", charset="UTF-8"' : 'Bearer realm="bdv-cluster"',
    );
    res.status(401).json({
      statusCode: 401,
      error: 'UNAUTHORIZED',
      message: basic
        ? 'missing or unknown token (Bearer, or Basic with the token as password)'
        : 'missing or unknown bearer token (Authorization: Bearer <token>)',
    });
  };
}
