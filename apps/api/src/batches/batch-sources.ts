import type { S3Client } from '@aws-sdk/client-s3';
import { describeProblems, type DatasetSpec, type FieldProblem, type ViewSpec } from '@bdv-cluster/contract';
import type { ClusterConfig } from '@bdv-cluster/pipeline';
import { ApiError } from '../common/api-error.js';
import { headerShapeProblem, sourceHeader } from '../common/source-checks.js';

/** Header reads in flight at once: enough to hide S3 latency, few enough to spare the store. */
const PARALLEL_READS = 8;
/** A batch whose sources are wrong is usually wrong everywhere: stop reading after this many. */
const MAX_PROBLEMS = 20;

/**
 * Every view's source checked as a single POST would check it (allowed bucket or folder, safe
 * key, header or raw size against the declaration, the shape read against the dataset's blocks)
 * before anything is registered or queued; a 400 names the views and objects at fault.
 */
export async function assertBatchSources(
  s3: S3Client,
  config: ClusterConfig,
  spec: DatasetSpec,
  views: readonly ViewSpec[],
): Promise<void> {
  const problems: FieldProblem[] = [];
  let next = 0;
  const worker = async () => {
    while (next < views.length && problems.length < MAX_PROBLEMS) {
      const i = next++;
      const view = views[i]!;
      const { problem, shapeZyx } = await sourceHeader(s3, config, view.source);
      const found = problem ?? headerShapeProblem(spec, view, shapeZyx!);
      if (found) problems.push({ field: `views[${i}].source`, message: found });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, views.length) }, worker));
  if (problems.length > 0) {
    problems.sort((a, b) => a.field.localeCompare(b.field, 'en', { numeric: true }));
    throw ApiError.badRequest(describeProblems(problems), problems);
  }
}
