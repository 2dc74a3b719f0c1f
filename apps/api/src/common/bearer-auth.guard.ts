import { CanActivate, ExecutionContext, HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { ClusterConfig } from '@bdv-cluster/pipeline';
import type { Request } from 'express';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from './api-error.js';
import { CONFIG } from './tokens.js';

/** Accepts `Authorization: Bearer <token>` (or Basic with the token as password, for browsers). */
export function tokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic' && value)
    return Buffer.from(value, 'base64').toString().split(':').slice(1).join(':');
  return undefined;
}

export function tokenAllowed(token: string | undefined, allowed: readonly string[]): boolean {
  if (!token) return false;
  const given = Buffer.from(token);
  return allowed.some((t) => {
    const want = Buffer.from(t);
    return want.length === given.length && timingSafeEqual(want, given);
  });
}

/** Every /v1 route needs one of API_TOKENS. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(@Inject(CONFIG) private readonly config: ClusterConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.path.startsWith('/v1')) return true;
    if (tokenAllowed(tokenOf(req.headers.authorization), this.config.API_TOKENS)) return true;
    throw new ApiError(
      HttpStatus.UNAUTHORIZED,
      'missing or unknown bearer token (Authorization: Bearer <token>)',
    );
  }
}
