import { CliError } from '../cli-error.js';
import { ApiClient, apiSettings, type DatasetStatus } from './api-client.js';
import { finish, type RemoteFlags } from './remote-output.js';

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
      const exported = d.files.xmlUri ? d.files.xmlUri.replace(/[^/]*$/, '') : undefined;
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
