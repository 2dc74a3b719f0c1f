import {
  compileFilenamePattern,
  fieldProblems,
  describeProblems,
  ClusterManifest,
  type Manifest,
  manifestFromMatches,
  viewKeyOf,
  type BatchSpec,
  type FieldProblem,
} from '@bdv-cluster/contract';
import { ApiError } from '../common/api-error.js';
import type { ListedObject } from './batch-listing.js';

/** What a batch would write: the dataset and one view per matching object. */
export interface BatchPlan {
  manifest: Manifest;
  /** Listed objects the pattern did not match. */
  unmatched: number;
}

/**
 * Listed objects + the batch request → a validated manifest, or a 400 naming the fields (and,
 * for a view, the object it came from).
 */
export function planBatch(batch: BatchSpec, listed: readonly ListedObject[]): BatchPlan {
  const pattern = compileFilenamePattern(batch.pattern);
  const matches = listed.flatMap((o) => {
    const indices = pattern.match(o.name);
    return indices ? [{ uri: o.uri, indices }] : [];
  });
  if (matches.length === 0)
    throw ApiError.badRequest(
      `pattern: no object under ${batch.source} matches '${batch.pattern}' (${listed.length} listed)`,
      'pattern',
    );
  const manifest = ClusterManifest.safeParse(
    manifestFromMatches(matches, {
      dataset: batch.dataset,
      viewDefaults: batch.viewDefaults,
      sourceOptions: batch.sourceOptions,
    }),
  );
  if (!manifest.success) {
    const details = fieldProblems(manifest.error).map((p) => withObjectName(p, matches));
    throw ApiError.badRequest(describeProblems(details.slice(0, 20)), details.slice(0, 100));
  }
  return { manifest: manifest.data, unmatched: listed.length - matches.length };
}

/** `views[3].channel` → `views[3] (s3://raw/x.npy).channel`: the object a bad view came from. */
function withObjectName(problem: FieldProblem, matches: readonly { uri: string }[]): FieldProblem {
  const m = /^views\[(\d+)\](.*)$/.exec(problem.field);
  const uri = m && matches[Number(m[1])]?.uri;
  return uri ? { field: `views[${m[1]}] (${uri})${m[2]}`, message: problem.message } : problem;
}

/** The dry-run answer: the plan without writing anything. */
export function describePlan(plan: BatchPlan) {
  const { dataset, views } = plan.manifest;
  return {
    dryRun: true,
    setup: dataset.setup,
    timepoints: dataset.timepoints,
    unmatched: plan.unmatched,
    views: views.map((v) => ({ viewKey: viewKeyOf(v), uri: v.source.uri })),
  };
}
