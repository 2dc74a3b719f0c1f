import { CliError } from '../cli-error.js';
import { ApiClient, apiSettings, type DatasetStatus } from './api-client.js';
import { exportedCopy, finish, showDataset, waitAndReport, type RemoteFlags } from './remote-output.js';

type Cancelled = DatasetStatus & { stillRunning?: string[]; message?: string };

/** DELETE attempts while writers are still stopping (each waits up to 30 s on the API). */
const CANCEL_ROUNDS = 4;

/** `bdv cancel`: asks until the dataset is `cancelled` (views stop at their next slab). */
export async function cancelDataset(id: string, flags: { api?: string; token?: string; purge?: boolean }) {
  const api = new ApiClient(apiSettings(flags));
  const path = `/v1/datasets/${encodeURIComponent(id)}${flags.purge ? '?purge=true' : ''}`;
  for (let round = 1; ; round++) {
    const d = await api.json<Cancelled>('DELETE', path);
    if (d.status === 'cancelled') {
      // An exported copy stays in the bucket, and keeps the name until it is removed there.
      const exported = exportedCopy(d);
      process.stdout.write(
        exported
          ? `${d.name} (${d.id}): cancelled; its files are removed (the copy exported to ${exported} is kept: remove it there to use the name ${d.name} again)\n`
          : `${d.name} (${d.id}): cancelled; its files are removed and the name ${d.name} is free again\n`,
      );
      return;
    }
    const running = d.stillRunning?.length ?? 0;
    if (round >= CANCEL_ROUNDS)
      throw new CliError(
        `${d.name} (${d.id}) is still ${d.status}: ${running} view(s) have not stopped; run bdv cancel ${id} again`,
      );
    process.stderr.write(`bdv: ${running} view(s) still stopping; asking again\n`);
  }
}

/** `bdv retry`: queues a failed view again; with --wait follows the dataset to the end. */
export async function retryView(id: string, viewKey: string, flags: RemoteFlags) {
  const api = new ApiClient(apiSettings(flags));
  const r = await api.json<{ viewKey: string; jobId: string }>(
    'POST',
    `/v1/datasets/${encodeURIComponent(id)}/views/${encodeURIComponent(viewKey)}/retry`,
    {},
  );
  process.stdout.write(`view ${r.viewKey} queued again (job ${r.jobId})\n`);
  await finish(api, id, flags);
}

/**
 * `bdv finalize`: asks for the XML of a dataset left open (`bdv submit --no-finalize`); it is
 * written once every view has settled. With --wait follows the dataset to the end.
 */
export async function finalizeDataset(id: string, flags: RemoteFlags) {
  const api = new ApiClient(apiSettings(flags));
  const d = await api.json<DatasetStatus>('POST', `/v1/datasets/${encodeURIComponent(id)}/finalize`, {});
  if (flags.wait) return waitAndReport(api, d.id, flags);
  if (flags.json) return showDataset(d, true);
  const follow = `follow it with: bdv status ${d.id}`;
  const said: Record<string, string> = {
    complete: 'complete already',
    finalizing: `finalizing: its XML is being written; ${follow}`,
  };
  process.stdout.write(
    `${d.name} (${d.id}): ${said[d.status] ?? `finalize asked for; its XML is written once every view has settled; ${follow}`}\n`,
  );
}
