import cliProgress from 'cli-progress';
import { wantsBar, type ProgressMode } from '../progress/progress-mode.js';
import type { ApiClient, DatasetStatus } from './api-client.js';

/** Polls a dataset until complete or failed, with a views bar on a terminal, lines otherwise. */
export async function waitForDataset(api: ApiClient, id: string, mode: ProgressMode): Promise<DatasetStatus> {
  const bar = wantsBar(mode)
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {value}/{total} views | {status} | failed {failed}',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let last = '';
  let started = false;
  for (;;) {
    const d = await api.json<DatasetStatus>('GET', `/v1/datasets/${id}`);
    const total = d.views.queued + d.views.running + d.views.done + d.views.failed;
    const settled = d.views.done + d.views.failed;
    if (bar) {
      if (!started) bar.start(total, settled, { status: d.status, failed: d.views.failed });
      started = true;
      bar.setTotal(total);
      bar.update(settled, { status: d.status, failed: d.views.failed });
    } else if (mode !== 'none') {
      const line = `${d.status}: ${d.views.done} done, ${d.views.failed} failed, ${d.views.running} running, ${d.views.queued} queued`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    }
    if (d.status === 'complete' || d.status === 'failed') {
      bar?.stop();
      return d;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
