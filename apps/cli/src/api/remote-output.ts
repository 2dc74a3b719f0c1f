import { CliError } from '../cli-error.js';
import type { ProgressMode } from '../progress/progress-mode.js';
import type { ApiClient, DatasetStatus } from './api-client.js';

export interface RemoteFlags {
  api?: string;
  token?: string;
  wait?: boolean;
  progress: ProgressMode;
}

export function printDataset(d: DatasetStatus): void {
  const lines = [
    `${d.name} (${d.id}): ${d.status}`,
    `  views: ${d.views.done} done, ${d.views.failed} failed, ${d.views.running} running, ${d.views.queued} queued`,
    `  HDF5: ${d.files.h5}${d.files.h5Uri ? `  (${d.files.h5Uri})` : ''}`,
    `  XML:  ${d.files.xml}${d.files.xmlUri ? `  (${d.files.xmlUri})` : ''}`,
    ...d.errors.map((e) => `  error: ${e}`),
    // The errors above stop at 100 lines; the failed views are listed whole elsewhere.
    ...(d.views.failed > 0 ? [`  failed views, each with its reason: bdv status ${d.id} --failed`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Says how to follow a dataset, or (--wait) follows it to the end; not complete is an error. */
export async function finish(api: ApiClient, id: string, flags: RemoteFlags): Promise<void> {
  if (!flags.wait) {
    process.stdout.write(`queued; follow it with: bdv status ${id}\n`);
    return;
  }
  const { waitForDataset } = await import('./wait-for-dataset.js');
  const d = await waitForDataset(api, id, flags.progress);
  printDataset(d);
  if (d.status !== 'complete') throw new CliError(`dataset ${d.name} ${d.status}`);
}
