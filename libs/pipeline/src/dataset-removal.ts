import { removeDatasetFile } from '@bdv-cluster/bdv';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DatasetRecord } from './state-model.js';

/**
 * Removes what a dataset wrote on the output volume: its .h5 (single layout: under the file's
 * write fence, waiting up to `waitSeconds` for a writer to commit or roll back), then its folder
 * with the partitions, master, XML, checksums and any staged or scratch files. Only the folder
 * named after the dataset is removed whole (OUTPUT_DIR/<name>/); elsewhere only the .h5 and XML.
 * Raw inputs and exported copies in OUTPUT_BUCKET are not touched.
 */
export async function removeDatasetOutputs(
  dataset: Pick<DatasetRecord, 'name' | 'files'>,
  waitSeconds: number,
): Promise<void> {
  const { h5, xml } = dataset.files;
  if (existsSync(h5) || existsSync(dirname(h5))) await removeDatasetFile(h5, waitSeconds);
  const folder = dirname(h5);
  if (basename(folder) === dataset.name) rmSync(folder, { recursive: true, force: true });
  else rmSync(xml, { force: true });
}
