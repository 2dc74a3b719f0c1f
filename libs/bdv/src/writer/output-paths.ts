import { basename, dirname, join } from 'node:path';
import { setupGroupName, timeGroupName } from '../h5/hdf5-paths.js';

/** `out.h5` -> `out.xml`, beside it (npy2bdv's convention). */
export function xmlPathFor(h5Path: string): string {
  return h5Path.replace(/\.h5$/i, '') + '.xml';
}

/** Partition file of one view in the `partitioned` layout, beside the master file. */
export function partitionPathFor(masterPath: string, time: number, setupId: number): string {
  const stem = basename(masterPath).replace(/\.h5$/i, '');
  return join(dirname(masterPath), `${stem}-${timeGroupName(time)}-${setupGroupName(setupId)}.h5`);
}
