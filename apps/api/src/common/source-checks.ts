import type { S3Client } from '@aws-sdk/client-s3';
import {
  readOptionsOf,
  viewRangeProblems,
  type DatasetSpec,
  type SourceSpec,
  type ViewSpec,
} from '@bdv-cluster/contract';
import { sourceBucketsOf, type ClusterConfig } from '@bdv-cluster/pipeline';
import { checkSourceHeader, parseSourceUri, StorageError, type SourceLocation } from '@bdv-cluster/storage';
import { ApiError } from './api-error.js';
import { tiffProblem } from './tiff-source.js';

/** The client's to fix (400); a store that fails is ours and propagates (503). */
const CLIENT_CODES = new Set(['BAD_URI', 'FORBIDDEN_PATH', 'NOT_FOUND']);

/** Where a source lives, after the API's checks: allowed folder, allowed bucket, safe key. */
export function sourceLocationOf(config: ClusterConfig, uri: string): SourceLocation {
  return parseSourceUri(uri, config.FILE_SOURCE_ROOTS, sourceBucketsOf(config));
}

/**
 * The source's shape as its header gives it, or why a declared source cannot be converted: a URI
 * the API does not read, a missing object, or a header (or, for raw, a size) that disagrees with
 * the declaration — checked before anything is queued, so a view that cannot be written never is.
 */
export async function sourceHeader(
  s3: S3Client,
  config: ClusterConfig,
  source: SourceSpec,
): Promise<{ problem?: string; shapeZyx?: number[] }> {
  try {
    const location = sourceLocationOf(config, source.uri);
    const check = await checkSourceHeader(s3, location, readOptionsOf(source));
    if (check.ok) return { shapeZyx: [...check.shapeZyx] };
    return { problem: (await tiffProblem(s3, location, source)) ?? check.problem };
  } catch (error) {
    if (error instanceof StorageError && CLIENT_CODES.has(error.code)) return { problem: error.message };
    throw error;
  }
}

/** sourceHeader's problem as a 400 naming `field` (e.g. `source`); else the shape it gives. */
export async function assertSourceFits(
  s3: S3Client,
  config: ClusterConfig,
  source: SourceSpec,
  field: string,
): Promise<number[]> {
  const { problem, shapeZyx } = await sourceHeader(s3, config, source);
  if (problem) throw ApiError.badRequest(`${field}: ${problem}`, [{ field, message: problem }]);
  return shapeZyx!;
}

/**
 * Where a view's shape was not declared, what the shape its header gives breaks (a view's slabs
 * and chunks within what a writer takes), as a declared one would be refused: said now, not by
 * the writer that would fail it. Undefined when it fits, or when the shape was declared (checked
 * with the body already).
 */
export function headerShapeProblem(
  spec: DatasetSpec,
  view: ViewSpec,
  shapeZyx: number[],
): string | undefined {
  if (view.source.shapeZyx) return undefined;
  const read = { ...view, source: { ...view.source, shapeZyx: shapeZyx as [number, number, number] } };
  const problem = viewRangeProblems(spec, read).find((p) => p.field === 'source.shapeZyx');
  return problem && `${shapeZyx.join('x')} (z,y,x) from its header: ${problem.message}`;
}
