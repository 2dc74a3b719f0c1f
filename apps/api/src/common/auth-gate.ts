import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingHttpHeaders } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { errorBody } from './api-error.js';

/** What a refused credential names (the header it is read from). */
const AUTHORIZATION = 'Authorization';

/**
 * The only paths served without a token (exact, case-sensitive): probes, Prometheus and the
 * OpenAPI documents. Everything else — every route there is and every path that matches none —
 * needs a token, so a new route is protected before anyone thinks of it.
 */
const PUBLIC_PATHS = new Set(['/health', '/health/live', '/health/ready', '/metrics', '/docs', '/docs/']);
/** Swagger UI's files and the OpenAPI documents under /docs/ (one plain segment each). */
const PUBLIC_DOCS_FILE = /^\/docs\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Bull Board: Basic credentials (the token as password) are accepted there — for a method that
 * changes something only from the board's own page (see `sameOriginRequest`).
 */
export const QUEUE_BOARD_PATH = '/queues';

/** Methods that change nothing: Basic credentials are taken for them wherever they count. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

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

/**
 * Where Basic credentials count: anything under /queues (a method that changes something only
 * when `basicNeedsSameOrigin` is satisfied), and GET/HEAD of the status page and its images.
 */
export function acceptsBasic(method: string, path: string): boolean {
  if (underQueueBoard(path)) return true;
  return (method === 'GET' || method === 'HEAD') && BROWSER_READS.some((page) => page.test(path));
}

/**
 * A request with Basic credentials that must come from the board's own page: any method but
 * GET/HEAD/OPTIONS under /queues. A browser that has the board's password cached sends it with
 * a request another site makes (a `no-cors` fetch or a form posts without asking), so these are
 * honoured only when the browser says the request is same-origin.
 */
export function basicNeedsSameOrigin(method: string, path: string): boolean {
  return underQueueBoard(path) && !SAFE_METHODS.has(method);
}

/**
 * Whether the browser says a request comes from this server's own pages: `Sec-Fetch-Site:
 * same-origin` (sent by current browsers; when present it decides), or else an `Origin` equal to
 * the request's own origin, `protocol://Host` (the protocol of the connection: X-Forwarded-* is
 * not trusted). Neither header — a script, or a browser that sends neither — is not same-origin.
 * Both are headers a page cannot set on a request it makes.
 */
export function sameOriginRequest(headers: IncomingHttpHeaders, protocol: string): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin';
  const origin = headers.origin;
  const host = headers.host;
  if (!origin || !host) return false;
  return origin.toLowerCase() === `${protocol}://${host}`.toLowerCase();
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
 * sends them cross-site, so no route that answers JSON honours them, and the board's routes that
 * change something honour them only same-origin: 403 otherwise).
 * Paths are compared as sent: `/V1/...` is not `/v1/...` (routing is case-sensitive too).
 */
export function authGate(tokens: readonly string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isPublicPath(req.path)) return next();
    const header = req.headers.authorization;
    const basic = acceptsBasic(req.method, req.path);
    const bearer = bearerToken(header);
    const token = bearer ?? (basic ? basicPassword(header) : undefined);
    if (tokenAllowed(token, tokens)) {
      if (bearer !== undefined || !basicNeedsSameOrigin(req.method, req.path)) return next();
      if (sameOriginRequest(req.headers, req.protocol)) return next();
      const message = `Basic credentials are accepted for ${req.method} under ${QUEUE_BOARD_PATH} only from the queue board's own page (Sec-Fetch-Site: same-origin or a same-origin Origin header); use a Bearer token from scripts`;
      res.status(403).json(errorBody(403, message, AUTHORIZATION));
      return;
    }
    res.setHeader(
      'WWW-Authenticate',
      basic ? 'Basic realm="bdv-cluster", charset="UTF-8"' : 'Bearer realm="bdv-cluster"',
    );
    const message = basic
      ? 'missing or unknown token (Bearer, or Basic with the token as password)'
      : 'missing or unknown bearer token (Authorization: Bearer <token>)';
    res.status(401).json(errorBody(401, message, AUTHORIZATION));
  };
}
