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
import { readManifestFile } from '../convert/manifest-file.js';
import { ApiClient, apiSettings, type DatasetStatus } from './api-client.js';
import { finish, type RemoteFlags } from './remote-output.js';

/** `bdv submit`'s options. */
export interface SubmitFlags extends RemoteFlags {
  manifest: string;
  finalize: boolean;
}

/**
 * Views referenced by URI submitted at once: the API checks each source's header before it
 * answers (object-store round trips), so one at a time a manifest of thousands of views took
 * minutes of waiting on latency alone.
 */
const REFERENCED_IN_FLIGHT = 8;
/** Local files streamed to the API at once (they share the link). */
const UPLOADS_IN_FLIGHT = 2;

/** A view the API refused, by its place in the manifest. */
interface Refusal {
  index: number;
  view: ViewSpec;
  error: Error;
}

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
  const stop: { refusal?: Refusal } = {};
  // The first refusal stops new requests; those in flight finish, so what was accepted is known.
  const each = (submitOne: (view: ViewSpec) => Promise<unknown>) => async (index: number) => {
    const view = views[index]!;
    if (stop.refusal) return;
    try {
      await submitOne(view);
    } catch (error) {
      // Several may fail while in flight: the one earliest in the manifest is reported.
      const first = stop.refusal as Refusal | undefined;
      if (!first || index < first.index) stop.refusal = { index, view, error: error as Error };
      return;
    }
    submitted += 1;
    if (flags.progress !== 'none')
      process.stderr.write(`[${submitted}/${views.length}] submitted ${viewKeyOf(view)}\n`);
  };
  const referenced: number[] = [];
  const local: number[] = [];
  for (const [i, view] of views.entries())
    (/^(s3|file):\/\//.test(view.source.uri) ? referenced : local).push(i);
  await Promise.all([
    pMap(
      referenced,
      each((view) => api.json('POST', `/v1/datasets/${dataset.id}/views`, view)),
      { concurrency: REFERENCED_IN_FLIGHT },
    ),
    pMap(
      local,
      each((view) => uploadView(api, dataset.id, view, base)),
      { concurrency: UPLOADS_IN_FLIGHT },
    ),
  ]);
  const { refusal } = stop;
  if (refusal) {
    process.stdout.write(`dataset ${dataset.name}: ${dataset.id}\n`);
    throw new CliError(
      `${viewKeyOf(refusal.view)}: ${refusal.error.message}; ${submitted} of ${views.length} view(s) were submitted and will be written; the dataset stays open (bdv cancel ${dataset.id} drops it)`,
    );
  }
  if (flags.finalize) await api.json('POST', `/v1/datasets/${dataset.id}/finalize`, {});
  process.stdout.write(`dataset ${dataset.name}: ${dataset.id}\n`);
  if (!flags.finalize)
    process.stdout.write(
      `left open for more views; once they are in, bdv finalize ${dataset.id} writes its XML\n`,
    );
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
