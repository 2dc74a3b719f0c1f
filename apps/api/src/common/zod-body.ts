import { describeProblems, fieldProblems } from '@bdv-cluster/contract';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Validates a request body at the edge; a 400 lists every bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw ApiError.badRequest('the body must be a JSON object (Content-Type: application/json)', 'body');
  }
  const parsed = safeParseOrRefusal(schema, body);
  if (!parsed.success) {
    const details = fieldProblems(parsed.error);
    throw ApiError.badRequest(describeProblems(details), details);
  }
  return parsed.data;
}

/**
 * safeParse, with a refinement that throws a BdvError instead of adding an issue (a libs/bdv check
 * meeting a value whose own field failed: libs/contract guards the ones known) answered as the
 * client's input it is — a 400 naming its field — rather than a 500.
 */
function safeParseOrRefusal<S extends z.ZodType>(
  schema: S,
  body: unknown,
): z.ZodSafeParseResult<z.output<S>> {
  try {
    return schema.safeParse(body);
  } catch (error) {
    // By name: the API does not load libs/bdv's classes for this.
    if (!(error instanceof Error) || error.name !== 'BdvError') throw error;
    const field = (error as Error & { field?: string }).field ?? '(body)';
    throw ApiError.badRequest(error.message, [{ field, message: error.message }]);
  }
}
