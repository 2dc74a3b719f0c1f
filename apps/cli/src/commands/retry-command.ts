import { Command } from 'commander';
import { WAIT_EXIT_HELP } from '../api/dataset-outcome.js';
import type { RemoteFlags } from '../api/remote-output.js';
import { progressOption } from '../progress/progress-mode.js';

/** `bdv retry <id> <viewKey> [--wait]`: POST /v1/datasets/:id/views/:viewKey/retry. */
export function retryCommand(): Command {
  return new Command('retry')
    .description(
      'queue a failed view of a cluster dataset again; the dataset finalizes again once it settles (if a finalize was asked for)',
    )
    .argument('<datasetId>')
    .argument('<viewKey>', 'e.g. t0-i0-c1-s0-a0 (bdv status <datasetId> --failed lists the failed views)')
    .option('--wait', 'wait until the dataset is complete')
    .option('--api <url>', 'API base URL (BDV_API_URL, default http://127.0.0.1:3000)')
    .option('--token <token>', 'bearer token (BDV_API_TOKEN)')
    .addOption(progressOption())
    .addHelpText('after', WAIT_EXIT_HELP)
    .action(async (id: string, viewKey: string, flags: RemoteFlags) => {
      const { retryView } = await import('../api/lifecycle-actions.js');
      await retryView(id, viewKey, flags);
    });
}
