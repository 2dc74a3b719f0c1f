import { describeProblems, fieldProblems } from '@bdv-cluster/contract';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

/** Validates a request body at the edge; a 400 lists every bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw ApiError.badRequest('the body must be a JSON object (Content-Type: application/json)');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const details = fieldProblems(parsed.error);
    throw ApiError.badRequest(describeProblems(details), details);
  }
  return parsed.data;
}
