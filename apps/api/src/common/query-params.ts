import { ApiError } from './api-error.js';

/** A 400 naming the query parameter that does not fit. */
export function queryError(field: string, message: string): ApiError {
  return ApiError.badRequest(`${field}: ${message}`, [{ field, message }]);
}

/** Refuses a query parameter the route does not know, naming the ones it does. */
export function refuseUnknownParams(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(query))
    if (!allowed.includes(key))
      throw ApiError.badRequest(`query.${key}: unknown parameter (allowed: ${allowed.join(', ')})`, [
        { field: `query.${key}`, message: 'unknown parameter' },
      ]);
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
