import { Command } from 'commander';
import { WAIT_EXIT_HELP } from '../api/dataset-outcome.js';
import type { RemoteFlags } from '../api/remote-output.js';
import { progressOption } from '../progress/progress-mode.js';

/** `bdv finalize <id> [--wait]`: POST /v1/datasets/:id/finalize. */
export function finalizeCommand(): Command {
  return new Command('finalize')
    .description(
      'finalize a cluster dataset left open (bdv submit --no-finalize): its XML is written once every view has settled, and it takes no more views',
    )
    .argument('<datasetId>')
    .option('--wait', 'wait until the dataset is complete')
    .option('--json', 'print the dataset as the API answers it')
    .option('--api <url>', 'API base URL (BDV_API_URL, default http://127.0.0.1:3000)')
    .option('--token <token>', 'bearer token (BDV_API_TOKEN)')
    .addOption(progressOption())
    .addHelpText('after', WAIT_EXIT_HELP)
    .action(async (id: string, flags: RemoteFlags) => {
      const { finalizeDataset } = await import('../api/lifecycle-actions.js');
      await finalizeDataset(id, flags);
    });
}
