import { BatchSpec, DatasetSpec, FinalizeSpec, ViewSpec } from '@bdv-cluster/contract';
import { z } from 'zod';

const SCHEMAS = { DatasetSpec, ViewSpec, FinalizeBody: FinalizeSpec, BatchSpec } as const;

/** OpenAPI request schemas generated from the same zod schemas that validate the requests. */
export function schemaOf(name: keyof typeof SCHEMAS): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(SCHEMAS[name], {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return schema;
}
