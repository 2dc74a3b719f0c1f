import type { DatasetRecord } from '@bdv-cluster/pipeline';
import { existsSync } from 'node:fs';
import { ApiError } from '../common/api-error.js';

/**
 * Why GET …/xml has no XML to give, or undefined when it has: a cancelled dataset never will
 * (410: its outputs are removed, its name is free), an unfinished one not yet (404: the finalize
 * writes it), a complete one whose file is gone from the output volume no more (404).
 */
export function xmlRefusal(dataset: DatasetRecord): ApiError | undefined {
  const { id, status } = dataset;
  if (status === 'cancelled' || status === 'cancelling')
    return ApiError.refuse(
      410,
      `dataset ${id} is ${status}: it never gets an XML (its outputs are removed); register a new dataset to convert these views`,
      'id',
    );
  if (status !== 'complete')
    return ApiError.notFound(
      `dataset ${id} has no XML yet (status ${status}; it is written by the finalize)`,
      'id',
    );
  if (!existsSync(dataset.files.xml))
    return ApiError.notFound(
      `dataset ${id} is complete, but its XML is no longer on the output volume (moved or removed there)`,
      'id',
    );
  return undefined;
}
