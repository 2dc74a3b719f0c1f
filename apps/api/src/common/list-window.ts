import { describeProblems, fieldProblems } from '@bdv-cluster/contract';
import { z } from 'zod';
import { ApiError } from './api-error.js';

/** The most datasets one list answer holds; page with `offset` beyond it. */
export const MAX_LIST_LIMIT = 1000;
/** Offsets past this are not a listing but a scan. */
export const MAX_LIST_OFFSET = 1_000_000;

const Integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

const ListWindow = z.object({
  offset: Integer(0, MAX_LIST_OFFSET, 0),
  limit: Integer(1, MAX_LIST_LIMIT, 100),
});

/** `?offset=&limit=` of a list route, bounded; anything else is a 400 naming the parameter. */
export function listWindowOf(query: { offset?: unknown; limit?: unknown }): {
  offset: number;
  limit: number;
} {
  const parsed = ListWindow.safeParse({ offset: query.offset, limit: query.limit });
  if (!parsed.success) {
    const details = fieldProblems(parsed.error).map((p) => ({ ...p, field: `query.${p.field}` }));
    throw ApiError.badRequest(describeProblems(details), details);
  }
  return parsed.data;
}
