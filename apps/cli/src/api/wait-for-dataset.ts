import cliProgress from 'cli-progress';
import { wantsBar, type ProgressMode } from '../progress/progress-mode.js';
import type { ApiClient, DatasetStatus } from './api-client.js';
import { outcomeOf, viewCountsText } from './dataset-outcome.js';

/**
 * Polls a dataset awaiting a finalize this many times in a row before taking it as settled: a
 * submitter between two views (or between its last view and its finalize) is not waited out.
 */
const AWAITING_FINALIZE_POLLS = 3;

/**
 * Polls a dataset until it settles — complete, failed, cancelled, or every view settled with no
 * finalize asked for (nothing more would happen) — with a views bar on a terminal, lines otherwise.
 */
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
  let awaitingFinalize = 0;
  for (;;) {
    const d = await api.json<DatasetStatus>('GET', `/v1/datasets/${encodeURIComponent(id)}`);
    const total = d.views.queued + d.views.running + d.views.done + d.views.failed;
    const settled = d.views.done + d.views.failed;
    if (bar) {
      if (!started) bar.start(total, settled, { status: d.status, failed: d.views.failed });
      started = true;
      bar.setTotal(total);
      bar.update(settled, { status: d.status, failed: d.views.failed });
    } else if (mode !== 'none') {
      const line = `${d.status}: ${viewCountsText(d)}`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    }
    const outcome = outcomeOf(d);
    awaitingFinalize = outcome === 'awaiting-finalize' ? awaitingFinalize + 1 : 0;
    if (
      outcome !== 'moving' &&
      (outcome !== 'awaiting-finalize' || awaitingFinalize >= AWAITING_FINALIZE_POLLS)
    ) {
      bar?.stop();
      return d;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
