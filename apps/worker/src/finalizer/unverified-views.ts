import type { VerifyReport } from '@bdv-cluster/bdv';
import type { ViewEntry } from '@bdv-cluster/pipeline';

/** One line per view (and dataset problem) that did not verify, for the finalize's reason. */
export function verificationProblems(report: VerifyReport): string[] {
  return [
    ...report.problems,
    ...report.views.flatMap((v) => v.problems.map((p) => `t${v.time} s${v.setupId} (${v.file}): ${p}`)),
  ];
}

/**
 * The written views that did not read back as their writers recorded them (a partition deleted
 * or damaged on the volume since), each with what verification found: they are failed views now.
 */
export function unverifiedViews(
  report: VerifyReport,
  views: readonly ViewEntry[],
): { viewKey: string; reason: string }[] {
  const failing = report.views.filter((verdict) => verdict.problems.length > 0);
  if (failing.length === 0) return [];
  const written = new Map(
    views.filter((v) => v.state === 'done').map((v) => [`${v.spec.time}:${v.setupId}`, v.viewKey]),
  );
  return failing.flatMap((verdict) => {
    const viewKey = written.get(`${verdict.time}:${verdict.setupId}`);
    if (viewKey === undefined) return [];
    return [{ viewKey, reason: `did not read back at finalize: ${verdict.problems.join('; ')}` }];
  });
}
