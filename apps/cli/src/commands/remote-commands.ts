import { COMPRESSION_NAMES, LAYOUTS } from '@bdv-cluster/bdv/vocabulary';
import { Command, Option } from 'commander';
import { ApiClient, apiSettings, type DatasetStatus } from '../api/api-client.js';
import { finish, printDataset, type RemoteFlags } from '../api/remote-output.js';
import type { SubmitFlags } from '../api/submit-action.js';
import { parseLevelsOrAuto } from '../convert/option-lists.js';
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
      .option('--no-finalize', 'leave the dataset open for more views')
      .option('--wait', 'wait until the dataset is complete'),
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
      .option('--dry-run', 'only list the views it would write')
      .option('--wait', 'wait until the dataset is complete'),
  ).action(async (source: string, flags: BatchFlags) => {
    const api = new ApiClient(apiSettings(flags));
    const result = await api.json<BatchAnswer>('POST', '/v1/batches', batchBody(source, flags));
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

interface BatchFlags extends RemoteFlags {
  pattern: string;
  name: string;
  compression?: string;
  subsampling?: string;
  layout?: string;
  dryRun?: boolean;
}

interface BatchAnswer {
  batchId?: string;
  datasetId?: string;
  views: unknown;
  queued?: number;
  skipped?: number;
  unmatched?: number;
}

/** POST /v1/batches from the command line; unset flags leave the API's defaults. */
function batchBody(source: string, flags: BatchFlags) {
  const dataset = {
    name: flags.name,
    compression: flags.compression,
    layout: flags.layout,
    subsamplingZyx: flags.subsampling ? parseLevelsOrAuto(flags.subsampling, '--subsampling') : undefined,
  };
  return {
    source: source.endsWith('/') ? source : `${source}/`,
    pattern: flags.pattern,
    dataset: JSON.parse(JSON.stringify(dataset)) as Record<string, unknown>,
    dryRun: flags.dryRun ?? false,
  };
}

/** `bdv status [id]`: every dataset, or one in detail. */
export function statusCommand(): Command {
  return remoteOptions(
    new Command('status')
      .description('list datasets on the cluster, or show one')
      .argument('[datasetId]')
      .option('--wait', 'wait until it is complete')
      .option('--failed', "list the dataset's failed views, each with its reason (all of them)"),
  ).action(async (id: string | undefined, flags: RemoteFlags & { failed?: boolean }) => {
    const api = new ApiClient(apiSettings(flags));
    if (flags.failed) {
      if (!id) throw new CliError('--failed lists the failed views of one dataset: give its id');
      if (flags.wait) {
        // Views may still fail while it runs: the list once it settled.
        const { waitForDataset } = await import('../api/wait-for-dataset.js');
        await waitForDataset(api, id, flags.progress);
      }
      return printFailedViews(api, id);
    }
    if (!id) {
      const all = await api.json<DatasetStatus[]>('GET', '/v1/datasets');
      if (all.length === 0) process.stdout.write('no datasets\n');
      for (const d of all) {
        process.stdout.write(
          `${d.id}  ${d.status.padEnd(10)} ${String(d.views.done).padStart(5)} done ${String(d.views.failed).padStart(4)} failed  ${d.name}\n`,
        );
      }
      return;
    }
    if (flags.wait) return finish(api, id, flags);
    printDataset(await api.json<DatasetStatus>('GET', `/v1/datasets/${id}`));
  });
}

/**
 * `bdv status <id> --failed`: every failed view and why (the dataset's own `errors` keep the
 * first 100 lines), from the API's state filter — the views to fix and `bdv retry`.
 */
async function printFailedViews(api: ApiClient, id: string): Promise<void> {
  const failed = await api.json<{ viewKey: string; error?: string }[]>(
    'GET',
    `/v1/datasets/${encodeURIComponent(id)}/views?state=failed`,
  );
  if (failed.length === 0) process.stdout.write('no failed views\n');
  for (const v of failed) process.stdout.write(`${v.viewKey}  ${v.error ?? 'failed'}\n`);
}
