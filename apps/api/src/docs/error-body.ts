import type { ContentObject, SchemaObject } from '@nestjs/swagger';

/** The name every error answer's schema has under components.schemas. */
export const ERROR_BODY = 'ErrorBody';

/** Every error answer's body (common/api-error.ts ErrorBody), as OpenAPI shows it. */
export const ERROR_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  additionalProperties: false,
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599, description: 'the HTTP status again' },
    error: { type: 'string', description: "the status's name", example: 'BAD_REQUEST' },
    message: {
      type: 'string',
      description: 'what is wrong, naming the field, file, dataset or view',
      example: 'setup.channels: Too small: expected number to be >=1',
    },
    details: {
      type: 'array',
      description:
        'every field at fault (a body field, query.<name>, a path parameter or a header): on every 4xx',
      items: {
        type: 'object',
        required: ['field', 'message'],
        additionalProperties: false,
        properties: {
          field: { type: 'string', example: 'setup.channels' },
          message: { type: 'string', example: 'Too small: expected number to be >=1' },
        },
      },
    },
  },
};

/** A JSON error answer's content: the ErrorBody schema. */
export const ERROR_CONTENT: ContentObject = {
  'application/json': { schema: { $ref: `#/components/schemas/${ERROR_BODY}` } },
};
