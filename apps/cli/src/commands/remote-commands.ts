import { COMPRESSION_NAMES, LAYOUTS } from '@bdv-cluster/bdv/vocabulary';
import { Command, Option } from 'commander';
import { ApiClient, apiSettings, type DatasetStatus } from '../api/api-client.js';
import type { BatchOptions } from '../api/batch-body.js';
import { WAIT_EXIT_HELP } from '../api/dataset-outcome.js';
import {
  finish,
  printJson,
  reportOutcome,
  showDataset,
  waitAndReport,
  type RemoteFlags,
} from '../api/remote-output.js';
import type { SubmitFlags } from '../api/submit-action.js';
import { progressOption } from '../progress/progress-mode.js';
import { CliError } from '../cli-error.js';

function remoteOptions(c: Command): Command {
  return c
    .option('--api <url>', 'API base URL (BDV_API_URL, default http://127.0.0.1:3000)')
    .option('--token <token>', 'bearer token (BDV_API_TOKEN)')
    .addOption(progressOption());
}

/** `bdv submit`: a manifest to the cluster; local paths are uploaded, s3:// and file:// URIs referenced. */
export function submitCommand(): Command {
  return remoteOptions(
    new Command('submit')
      .description(
        'send a manifest to the cluster: register the dataset, submit or upload every view, finalize',
      )
      .requiredOption('-m, --manifest <file.json>', '{dataset, views} as for bdv convert')
      .option('--no-finalize', 'leave the dataset open for more views (then: bdv finalize <datasetId>)')
      .option('--wait', 'wait until the dataset is complete')
      .addHelpText('after', WAIT_EXIT_HELP),
  ).action(async (flags: SubmitFlags) => {
    const { submit } = await import('../api/submit-action.js');
    await submit(flags);
  });
}

/** `bdv batch`: convert an archive (S3 prefix or allowed folder) on the cluster. */
export function batchCommand(): Command {
  return remoteOptions(
    new Command('batch')
      .description('convert every matching file under an s3:// prefix or file:// folder on the cluster')
      .argument('<source>', 's3://bucket/prefix/ or file:///folder/ (as the cluster sees it)')
      .requiredOption(
        '-p, --pattern <pattern>',
        "names with indices, e.g. 't{time}/ch{channel}_tile{tile}.npy'",
      )
      .requiredOption('--name <name>', 'dataset name')
      .addOption(new Option('--compression <codec>').choices(COMPRESSION_NAMES))
      .option('--subsampling <levels>', "pyramid factors z,y,x per level, e.g. 1,1,1:2,4,4, or 'auto'")
      .addOption(new Option('--layout <layout>').choices(LAYOUTS))
      .option('--voxel-size <x,y,z>', 'voxel size of every view (metadata; default 1,1,1 px)')
      .option('--unit <unit>', 'voxel size unit, e.g. um')
      .option('--dry-run', 'only list the views it would write')
      .option('--wait', 'wait until the dataset is complete')
      .addHelpText('after', WAIT_EXIT_HELP),
  ).action(async (source: string, flags: BatchFlags) => {
    const { batchBody } = await import('../api/batch-body.js');
    const body = batchBody(source, flags);
    const api = new ApiClient(apiSettings(flags));
    const result = await api.json<BatchAnswer>('POST', '/v1/batches', body);
    if (flags.dryRun) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `batch ${result.batchId}: ${String(result.views)} views (${result.queued} queued, ${result.skipped} already written, ${result.unmatched} other files)\n`,
    );
    await finish(api, result.datasetId!, flags);
  });
}

type BatchFlags = RemoteFlags & BatchOptions;

interface BatchAnswer {
  batchId?: string;
  datasetId?: string;
  views: unknown;
  queued?: number;
  skipped?: number;
  unmatched?: number;
}

/** `bdv status [id]`: every dataset, or one in detail. */
export function statusCommand(): Command {
  return remoteOptions(
    new Command('status')
      .description('list datasets on the cluster, or show one')
      .argument('[datasetId]')
      .option('--wait', 'wait until it is complete (or settled otherwise: see the exit codes)')
      .option('--failed', "list the dataset's failed views, each with its reason (all of them)")
      .option('--json', 'print the dataset (the list, the failed views) as the API answers it')
      .addHelpText('after', WAIT_EXIT_HELP),
  ).action(async (id: string | undefined, flags: RemoteFlags & { failed?: boolean }) => {
    const api = new ApiClient(apiSettings(flags));
    if (flags.wait && !id) throw new CliError('--wait follows one dataset: give its id');
    if (flags.failed) {
      if (!id) throw new CliError('--failed lists the failed views of one dataset: give its id');
      if (flags.wait) {
        // Views may still fail while it runs: the list once it settled.
        const { waitForDataset } = await import('../api/wait-for-dataset.js');
        const settled = await waitForDataset(api, id, flags.progress);
        await printFailedViews(api, id, flags.json);
        return reportOutcome(settled);
      }
      return printFailedViews(api, id, flags.json);
    }
    if (!id) {
      const all = await api.json<DatasetStatus[]>('GET', '/v1/datasets');
      if (flags.json) return printJson(all);
      if (all.length === 0) process.stdout.write('no datasets\n');
      for (const d of all) {
        process.stdout.write(
          `${d.id}  ${d.status.padEnd(10)} ${String(d.views.done).padStart(5)} done ${String(d.views.failed).padStart(4)} failed  ${d.name}\n`,
        );
      }
      return;
    }
    if (flags.wait) return waitAndReport(api, id, flags);
    showDataset(await api.json<DatasetStatus>('GET', `/v1/datasets/${encodeURIComponent(id)}`), flags.json);
  });
}

/**
 * `bdv status <id> --failed`: every failed view and why (the dataset's own `errors` keep the
 * first 100 lines), from the API's state filter — the views to fix and `bdv retry`.
 */
async function printFailedViews(api: ApiClient, id: string, json?: boolean): Promise<void> {
  const failed = await api.json<{ viewKey: string; error?: string }[]>(
    'GET',
    `/v1/datasets/${encodeURIComponent(id)}/views?state=failed`,
  );
  if (json) return printJson(failed);
  if (failed.length === 0) process.stdout.write('no failed views\n');
  for (const v of failed) process.stdout.write(`${v.viewKey}  ${v.error ?? 'failed'}\n`);
}
