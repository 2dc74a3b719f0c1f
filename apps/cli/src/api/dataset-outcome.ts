import type { DatasetStatus } from './api-client.js';

/**
 * Where a cluster dataset stands for someone waiting on it: still moving, or settled one way.
 * `awaiting-finalize`: every view has settled (or none was submitted) and nobody asked for the
 * finalize, so nothing more happens until somebody does (`bdv submit --no-finalize`).
 */
export type DatasetOutcome =
  'moving' | 'complete' | 'incomplete' | 'failed' | 'cancelled' | 'awaiting-finalize';

export function outcomeOf(d: DatasetStatus): DatasetOutcome {
  if (d.status === 'complete') return d.views.failed > 0 ? 'incomplete' : 'complete';
  if (d.status === 'failed' || d.status === 'cancelled') return d.status;
  const settled = d.views.queued === 0 && d.views.running === 0;
  const open = d.status === 'open' || d.status === 'writing';
  return open && settled && d.finalizeRequested === false ? 'awaiting-finalize' : 'moving';
}

/** The exit code of a command that waited for the dataset (0 only when every view is in the output). */
export const WAIT_EXIT_CODES: Record<Exclude<DatasetOutcome, 'moving'>, number> = {
  complete: 0,
  incomplete: 2,
  failed: 3,
  cancelled: 3,
  'awaiting-finalize': 4,
};

/** The exit codes as `--help` lists them. */
export const WAIT_EXIT_HELP = `
Exit codes with --wait:
  0  complete: every view is in the output
  1  an error (bad option, the API unreachable or refusing the request)
  2  complete, but some views failed: they are MissingViews in the XML
     (bdv status <datasetId> --failed lists them, bdv retry queues one again)
  3  the dataset failed (no XML was written) or was cancelled
  4  nothing more happens: every view has settled (or none was submitted) and
     nobody asked for a finalize (bdv finalize <datasetId> writes the XML)`;

/** The line that explains an outcome other than `complete` (stderr, beside the exit code). */
export function outcomeLine(d: DatasetStatus, outcome: DatasetOutcome): string | undefined {
  const who = `${d.name} (${d.id})`;
  switch (outcome) {
    case 'incomplete':
      return `${who} is complete without ${d.views.failed} failed view(s) (MissingViews in the XML): bdv status ${d.id} --failed lists them, bdv retry ${d.id} <viewKey> queues one again`;
    case 'failed':
      return `${who} failed: its XML was not written (its errors say why)`;
    case 'cancelled':
      return `${who} was cancelled: its files are removed`;
    case 'awaiting-finalize':
      return `${who} ${awaitingFinalizeHint(d)}`;
    default:
      return undefined;
  }
}

/** What a dataset nobody finalized waits for, and the command that moves it on. */
export function awaitingFinalizeHint(d: DatasetStatus): string {
  return d.views.done + d.views.failed === 0
    ? `has no view yet and nobody asked for a finalize: submit its views, then run bdv finalize ${d.id}`
    : `waits for a finalize: every view submitted has settled and nobody asked for one; once all its views are in, run bdv finalize ${d.id}`;
}

/** `2 done, 1 failed, 0 running, 0 queued` (and the cancelled views, once there are any). */
export function viewCountsText(d: DatasetStatus): string {
  const v = d.views;
  const cancelled = v.cancelled ? `, ${v.cancelled} cancelled` : '';
  return `${v.done} done, ${v.failed} failed, ${v.running} running, ${v.queued} queued${cancelled}`;
}
