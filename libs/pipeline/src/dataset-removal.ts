import { removeDatasetFile } from '@bdv-cluster/bdv';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DatasetRecord } from './state-model.js';

/**
 * Removes what a dataset wrote on the output volume, under its .h5's write fence (waiting up to
 * `waitSeconds` for a single-layout writer to commit or roll back): the .h5, and its folder with
 * the partitions, master, XML, checksums and any staged or scratch files. Only the folder
 * named after the dataset is removed whole (OUTPUT_DIR/<name>/); elsewhere only the .h5 and XML.
 * Raw inputs and exported copies in OUTPUT_BUCKET are not touched.
 */
export async function removeDatasetOutputs(
  dataset: Pick<DatasetRecord, 'name' | 'files'>,
  waitSeconds: number,
): Promise<void> {
  const { h5, xml } = dataset.files;
  const folder = dirname(h5);
  const ownFolder = basename(folder) === dataset.name;
  // The folder goes under the fence too: it holds the lock file, which a preview may be waiting on.
  if (existsSync(h5) || existsSync(folder))
    await removeDatasetFile(h5, waitSeconds, ownFolder ? folder : undefined);
  if (!ownFolder) rmSync(xml, { force: true });
}
