import { z } from 'zod';
import { DatasetSpec, LocalDatasetSpec } from './dataset-spec.js';
import { MAX_VIEWS } from './limits.js';
import { ViewSpec, viewKeyOf, viewRangeProblems, type FieldProblem } from './view-spec.js';

/** A dataset body plus its view bodies, in one file; `dataset` validated by `datasetSpec`. */
const manifestOf = (datasetSpec: typeof LocalDatasetSpec) =>
  z
    .object({
      dataset: datasetSpec,
      views: z.array(ViewSpec).min(1, 'needs at least one view').max(MAX_VIEWS),
    })
    .strict()
    .superRefine((m, ctx) => {
      const seen = new Map<string, number>();
      m.views.forEach((view, i) => {
        for (const p of viewRangeProblems(m.dataset, view))
          ctx.addIssue({ code: 'custom', path: ['views', i, p.field], message: p.message });
        const key = viewKeyOf(view);
        const first = seen.get(key);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['views', i],
            message: `duplicate view ${key} (same as views[${first}])`,
          });
        else seen.set(key, i);
      });
    });

/**
 * `bdv convert --manifest`: the HTTP API's dataset body plus its view bodies. Its one different
 * default is the layout (one file, where the cluster writes one per view).
 */
export const Manifest = manifestOf(LocalDatasetSpec);
/** The same on the cluster (`bdv submit`, a batch's plan): the cluster's defaults. */
export const ClusterManifest = manifestOf(DatasetSpec);

export type ManifestInput = z.input<typeof Manifest>;
export type Manifest = z.output<typeof Manifest>;

/** zod issues as `field: message` pairs with dotted paths (views[3].source.uri). */
export function fieldProblems(error: z.ZodError): FieldProblem[] {
  return error.issues.map((issue) => ({
    field:
      issue.path.reduce<string>(
        (acc, part) =>
          typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
        '',
      ) || '(body)',
    message: issue.message,
  }));
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}
