import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError } from './api-error.js';
import { refuseUnknownParams } from './query-params.js';

const QUERY_PARAMS = 'bdv:query-params';
const TAKES_BODY = 'bdv:takes-body';
const OWN_CHECKS = 'bdv:checks-own-request';

/** The query parameters a route takes (list them in its @ApiQuery too); without it, none. */
export const QueryParams = (...names: string[]) => SetMetadata(QUERY_PARAMS, names);

/** The route reads a JSON body (validated against its schema); without it, it takes none. */
export const TakesBody = () => SetMetadata(TAKES_BODY, true);

/**
 * The route refuses unknown query parameters and bodies itself: the upload, whose every refusal
 * first drains the body it is sent (refuseBody) so that the client hears why.
 */
export const ChecksOwnRequest = () => SetMetadata(OWN_CHECKS, true);

/** GET (and HEAD, which Express answers with the GET route) may carry a cache-buster. */
export function takesCacheBuster(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * Every route, unless it says otherwise, refuses (400) what it would ignore: query parameters it
 * does not know (`?stat=failed` had listed every view, `POST /v1/datasets?dryRun=true` created
 * the dataset), and a JSON body when it takes none (a retry's options were dropped unread). An
 * empty object is no body: clients send `{}` with a POST that has nothing to say.
 */
@Injectable()
export class RequestShapeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const handler = context.getHandler();
    if (this.reflector.get<boolean>(OWN_CHECKS, handler)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const allowed = this.reflector.get<string[] | undefined>(QUERY_PARAMS, handler) ?? [];
    refuseUnknownParams(req.query as Record<string, unknown>, allowed, {
      cacheBuster: takesCacheBuster(req.method),
    });
    if (!this.reflector.get<boolean>(TAKES_BODY, handler)) refuseIgnoredBody(req.body);
    return true;
  }
}

/** A parsed JSON body other than `{}` (no body at all parses to undefined). */
function refuseIgnoredBody(body: unknown): void {
  if (body === undefined) return;
  const empty =
    typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0;
  if (empty) return;
  const message = 'this route takes no body, and would ignore it: send none';
  throw ApiError.badRequest(`body: ${message}`, [{ field: 'body', message }]);
}
