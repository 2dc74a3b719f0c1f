import { dirname, resolve } from 'node:path';
import {
  ClusterManifest,
  describeProblems,
  fieldProblems,
  sourceOptionsToQuery,
  viewKeyOf,
  type ViewSpec,
} from '@bdv-cluster/contract';
import { formatOf } from '@bdv-cluster/stacks';
import pMap from 'p-map';
import { CliError } from '../cli-error.js';
import type { SubmitFlags } from '../commands/remote-commands.js';
import { readManifestFile } from '../convert/manifest-file.js';
import { ApiClient, apiSettings, type DatasetStatus } from './api-client.js';
import { finish } from './remote-output.js';

/**
 * Views referenced by URI submitted at once: the API checks each source's header before it
 * answers (object-store round trips), so one at a time a manifest of thousands of views took
 * minutes of waiting on latency alone.
 */
const REFERENCED_IN_FLIGHT = 8;
/** Local files streamed to the API at once (they share the link). */
const UPLOADS_IN_FLIGHT = 2;

/** `bdv submit`: a manifest to the cluster; local paths are uploaded, s3:// and file:// URIs referenced. */
export async function submit(flags: SubmitFlags): Promise<void> {
  const input = readManifestFile(flags.manifest);
  const parsed = ClusterManifest.safeParse(input);
  if (!parsed.success)
    throw new CliError(`invalid manifest: ${describeProblems(fieldProblems(parsed.error))}`);
  const api = new ApiClient(apiSettings(flags));
  const base = dirname(resolve(flags.manifest));
  const dataset = await api.json<DatasetStatus>('POST', '/v1/datasets', input.dataset);
  const { views } = parsed.data;
  let submitted = 0;
  const submittedOne = (view: ViewSpec) => {
    submitted += 1;
    if (flags.progress !== 'none')
      process.stderr.write(`[${submitted}/${views.length}] submitted ${viewKeyOf(view)}\n`);
  };
  const referenced = views.filter((v) => /^(s3|file):\/\//.test(v.source.uri));
  const local = views.filter((v) => !referenced.includes(v));
  // The first refusal stops both (the error names the view); requests in flight still finish.
  await Promise.all([
    pMap(
      referenced,
      async (view) => {
        await api.json('POST', `/v1/datasets/${dataset.id}/views`, view);
        submittedOne(view);
      },
      { concurrency: REFERENCED_IN_FLIGHT },
    ),
    pMap(
      local,
      async (view) => {
        await uploadView(api, dataset.id, view, base);
        submittedOne(view);
      },
      { concurrency: UPLOADS_IN_FLIGHT },
    ),
  ]);
  if (flags.finalize) await api.json('POST', `/v1/datasets/${dataset.id}/finalize`, {});
  process.stdout.write(`dataset ${dataset.name}: ${dataset.id}\n`);
  await finish(api, dataset.id, flags);
}

/**
 * A local file goes to PUT …/data: source options in the query (the codec the API decodes with),
 * the view's metadata in a header, the bytes streamed.
 */
async function uploadView(api: ApiClient, datasetId: string, view: ViewSpec, base: string): Promise<void> {
  const { source, time: _t, illumination: _i, channel: _c, tile: _ti, angle: _a, ...metadata } = view;
  const { uri, ...options } = source;
  const query = new URLSearchParams(
    sourceOptionsToQuery({ ...options, format: formatOf(uri, options.format) }),
  );
  await api.upload(`/v1/datasets/${datasetId}/views/${viewKeyOf(view)}/data?${query}`, resolve(base, uri), {
    'x-bdv-view-metadata': JSON.stringify(metadata),
  });
}
