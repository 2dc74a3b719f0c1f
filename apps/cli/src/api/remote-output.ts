import type { ProgressMode } from '../progress/progress-mode.js';
import type { ApiClient, DatasetStatus } from './api-client.js';
import {
  awaitingFinalizeHint,
  outcomeLine,
  outcomeOf,
  viewCountsText,
  WAIT_EXIT_CODES,
} from './dataset-outcome.js';

export interface RemoteFlags {
  api?: string;
  token?: string;
  wait?: boolean;
  /** The dataset as the API's JSON instead of the text report (where a command offers it). */
  json?: boolean;
  progress: ProgressMode;
}

/** Where a dataset's copy was exported to OUTPUT_BUCKET (`s3://bucket/name/`), if it was. */
export function exportedCopy(d: DatasetStatus): string | undefined {
  return d.files.xmlUri?.replace(/[^/]*$/, '');
}

/** The files a report shows: the outputs, or — once cancelled — that they are gone. */
function fileLines(d: DatasetStatus): string[] {
  if (d.status === 'cancelled' || d.status === 'cancelling') {
    const exported = exportedCopy(d);
    return [
      `  files: ${d.status === 'cancelled' ? 'removed' : 'being removed'} (cancelled)`,
      ...(exported
        ? [`  exported copy kept: ${exported} (remove it there to use the name ${d.name} again)`]
        : []),
    ];
  }
  return [
    `  HDF5: ${d.files.h5}${d.files.h5Uri ? `  (${d.files.h5Uri})` : ''}`,
    `  XML:  ${d.files.xml}${d.files.xmlUri ? `  (${d.files.xmlUri})` : ''}`,
  ];
}

export function printDataset(d: DatasetStatus): void {
  const cancelled = d.status === 'cancelled' || d.status === 'cancelling';
  const lines = [
    `${d.name} (${d.id}): ${d.status}`,
    `  views: ${viewCountsText(d)}`,
    ...fileLines(d),
    ...d.errors.map((e) => `  error: ${e}`),
    // The errors above stop at 100 lines; the failed views are listed whole elsewhere.
    ...(d.views.failed > 0 && !cancelled
      ? [`  failed views, each with its reason: bdv status ${d.id} --failed`]
      : []),
    ...(outcomeOf(d) === 'awaiting-finalize' ? [`  ${awaitingFinalizeHint(d)}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** What the API answered, as its JSON (--json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A dataset as the API's JSON (--json) or as the text report. */
export function showDataset(d: DatasetStatus, json?: boolean): void {
  if (json) printJson(d);
  else printDataset(d);
}

/**
 * The exit code of a command that waited for `d` (WAIT_EXIT_CODES), with a line on stderr saying
 * why when it is not 0.
 */
export function reportOutcome(d: DatasetStatus): void {
  const outcome = outcomeOf(d);
  const line = outcomeLine(d, outcome);
  if (line) process.stderr.write(`bdv: ${line}\n`);
  process.exitCode = outcome === 'moving' ? 1 : WAIT_EXIT_CODES[outcome];
}

/** Follows a dataset until it settles, shows it, and sets the exit code of its outcome. */
export async function waitAndReport(api: ApiClient, id: string, flags: RemoteFlags): Promise<void> {
  const { waitForDataset } = await import('./wait-for-dataset.js');
  const d = await waitForDataset(api, id, flags.progress);
  showDataset(d, flags.json);
  reportOutcome(d);
}

/** Says how to follow a dataset, or (--wait) follows it to its end: see WAIT_EXIT_CODES. */
export async function finish(api: ApiClient, id: string, flags: RemoteFlags): Promise<void> {
  if (!flags.wait) {
    process.stdout.write(`queued; follow it with: bdv status ${id}\n`);
    return;
  }
  await waitAndReport(api, id, flags);
}
