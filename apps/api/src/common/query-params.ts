import { ApiError } from './api-error.js';

/** `?_=<anything>`: what clients and proxies add to a GET to get past a cache. */
export const CACHE_BUSTER = '_';

/** A 400 naming the query parameter that does not fit. */
export function queryError(field: string, message: string): ApiError {
  return ApiError.badRequest(`${field}: ${message}`, [{ field, message }]);
}

/**
 * Refuses the query parameters a route does not know, naming them and the ones it does; a
 * cache-buster `_` passes where `cacheBuster` says (GETs: see RequestShapeGuard).
 */
export function refuseUnknownParams(
  query: Record<string, unknown>,
  allowed: readonly string[],
  { cacheBuster = false } = {},
): void {
  const unknown = Object.keys(query).filter(
    (key) => !allowed.includes(key) && !(cacheBuster && key === CACHE_BUSTER),
  );
  if (unknown.length === 0) return;
  // Named in full up to a bound (a query string may hold a thousand of them).
  const named = unknown.slice(0, 10).map((key) => `query.${key.length > 64 ? `${key.slice(0, 64)}…` : key}`);
  const more = unknown.length > named.length ? ` and ${unknown.length - named.length} more` : '';
  const known = allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : 'this route takes none';
  throw ApiError.badRequest(
    `${named.join(', ')}${more}: unknown parameter${unknown.length > 1 ? 's' : ''} (${known})`,
    named.map((field) => ({ field, message: 'unknown parameter' })),
  );
}

/** A whole number min..max from a query string (at most `maxDigits` digits), else a 400. */
export function boundedInteger(
  field: string,
  value: unknown,
  min: number,
  max: number,
  maxDigits = 7,
): number {
  const digits = new RegExp(`^\\d{1,${maxDigits}}$`);
  if (typeof value !== 'string' || !digits.test(value) || Number(value) < min || Number(value) > max)
    throw queryError(field, `must be an integer ${min}..${max}`);
  return Number(value);
}
