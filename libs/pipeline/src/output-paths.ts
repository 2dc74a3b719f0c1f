import { basename, join } from 'node:path';
import { xmlPathFor } from '@bdv-cluster/bdv';
import type { DatasetFiles } from './state-model.js';

/** Each dataset gets a folder under OUTPUT_DIR named after it (names are unique and file-safe). */
export function datasetFiles(outputDir: string, name: string): DatasetFiles {
  const h5 = join(outputDir, name, `${name}.h5`);
  return { h5, xml: xmlPathFor(h5) };
}

/** Where a dataset's files go in OUTPUT_BUCKET: under `<name>/`. */
export function exportPrefixOf(name: string): string {
  return `${name}/`;
}

/** Where a dataset's file goes in OUTPUT_BUCKET: `<name>/<file name>`. */
export function exportKeyOf(name: string, file: string): string {
  return `${exportPrefixOf(name)}${basename(file)}`;
}
