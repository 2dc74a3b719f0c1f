import type { Answers } from './answers.js';

/** A probe's outcome in a health report. */
const PROBES = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } },
  },
};

/** /health and /health/ready: ready, or which probe is down (its error code, never its message). */
export const READY_ANSWERS: Answers = {
  200: 'Redis, the raw bucket and the output folder all work',
  503: {
    description:
      'one of them does not: details.<probe> says which, with its error code (outputDir: EROFS read-only, ENOSPC full)',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['statusCode', 'error', 'message', 'details'],
          properties: {
            statusCode: { type: 'integer', enum: [503] },
            error: { type: 'string', enum: ['SERVICE_UNAVAILABLE'] },
            message: { type: 'string' },
            details: {
              ...PROBES,
              example: { redis: { status: 'up' }, outputDir: { status: 'down', message: 'EROFS' } },
            },
          },
        },
      },
    },
  },
};
