import { Command } from 'commander';

interface CancelFlags {
  api?: string;
  token?: string;
  purge?: boolean;
}

/** `bdv cancel <id> [--purge]`: DELETE /v1/datasets/:id on the cluster. */
export function cancelCommand(): Command {
  return new Command('cancel')
    .description(
      'cancel a dataset on the cluster: queued views dropped, running ones stopped and undone, its files removed, its name free again — unless a copy was exported to the output bucket (OUTPUT_BUCKET): that copy is kept and holds the name until it is removed there',
    )
    .argument('<datasetId>')
    .option('--purge', 'also remove a complete dataset and its files (not its exported copy)')
    .option('--api <url>', 'API base URL (BDV_API_URL, default http://127.0.0.1:3000)')
    .option('--token <token>', 'bearer token (BDV_API_TOKEN)')
    .action(async (id: string, flags: CancelFlags) => {
      const { cancelDataset } = await import('../api/lifecycle-actions.js');
      await cancelDataset(id, flags);
    });
}
