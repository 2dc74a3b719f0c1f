import type { ViewEntry } from '@bdv-cluster/pipeline';

/** The earliest timepoint with a view (a loop: a spread of a million views would throw). */
export function firstTimepoint(views: readonly ViewEntry[]): number | undefined {
  let first: number | undefined;
  for (const v of views) if (first === undefined || v.spec.time < first) first = v.spec.time;
  return first;
}
